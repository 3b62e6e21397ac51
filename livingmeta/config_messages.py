"""Config errors a person can act on: where (review id, outcome name, YAML line) and what
to write instead (did you mean ...?).

Why separate from :mod:`livingmeta.config`: loading and validating the config is one job,
wording its errors for a reader is another, and the wording is what users see first when
they start a review.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any


def readable_path(config: Any, path: Sequence[Any]) -> str:
    """``['reviews', 0, 'outcomes', 2]`` -> ``reviews[rescue_stenting].outcomes[sich]``:
    list items are named by their ``id`` or ``name`` when they have one."""
    out, node = "", config
    for part in path:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            name = item.get("id", item.get("name")) if isinstance(item, dict) else None
            out += f"[{name}]" if isinstance(name, str) and name.strip() else f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    return out or "(top level)"


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``; did you mean 'label'?`` for the closest choice (any case), or ``""``."""
    folded = {choice.casefold(): choice for choice in choices}
    close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
    return f"; did you mean {folded[close[0]]!r}?" if close else ""


def schema_error_lines(config: Any, error: Any) -> list[str]:
    """What one ``jsonschema`` error means, one line per problem, each starting with
    where it is (:func:`readable_path`)."""
    where = readable_path(config, list(error.absolute_path))
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties", {}))
        unknown = [key for key in error.instance if key not in allowed]
        lines = []
        for key in unknown:
            hint = did_you_mean(str(key), allowed) or f"; the keys are: {', '.join(allowed)}"
            lines.append(f"{where}: {str(key)!r} is not a key{hint}")
        if lines:
            return lines
    if error.validator == "contains" and isinstance(error.validator_value, dict):
        wanted = error.validator_value.get("const")
        return [f"{where}: must include {wanted!r}; got {error.instance!r}"]
    if error.validator == "enum" and isinstance(error.instance, str):
        hint = did_you_mean(error.instance, [str(v) for v in error.validator_value])
        return [f"{where}: {error.message}{hint}"]
    return [f"{where}: {error.message}"]


def yaml_syntax_message(path: str, error: Exception) -> str:
    """``config/config.yaml, line 12, column 5: mapping values are not allowed here``
    (lines and columns counted from 1, as editors do)."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    where = f"{path}, {_line_and_column(mark)}" if mark else path
    if context:
        # Where the unclosed bracket or quote opened, often lines above the error.
        start = getattr(error, "context_mark", None)
        moved = start and (start.line, start.column) != (mark.line, mark.column)
        opened = f" started at {_line_and_column(start)}" if moved else ""
        problem = f"{problem} ({context}{opened})"
    return f"{where}: YAML syntax error: {problem}"


def _line_and_column(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"
