"""Secrets out of everything retrieval stores or reports.

The NCBI ``api_key`` must never reach a log line, an exception or a stored snapshot:
everything that leaves the HTTP transport and the snapshot store goes through
:func:`redact` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: Query/form parameter names whose values are secrets.
SECRET_PARAMS: frozenset[str] = frozenset({"api_key"})
REDACTED = "REDACTED"

_SECRET_IN_TEXT = re.compile(
    r"(?P<name>\b(?:" + "|".join(sorted(SECRET_PARAMS)) + r"))"
    r"(?P<sep>\s*(?:=|%3D|:|\"\s*:\s*\"|'\s*:\s*'))"
    r"(?P<value>[^&\s\"'#,;)}\]]+)",
    re.IGNORECASE,
)


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Return ``value`` with secret parameters (``api_key``) replaced by ``"REDACTED"``.

    Accepts what our code ever stores or logs: a URL or free text (``api_key=...`` is
    masked wherever it appears, including inside exception messages), ``bytes`` (a form
    body), a mapping of parameters, or a sequence of ``(name, value)`` pairs. Values listed
    in ``secrets`` are also masked verbatim, which catches a key echoed back in a response
    body (NCBI's 429 JSON does that).

    Parameters
    ----------
    value
        URL, text, bytes, mapping or pair sequence.
    secrets
        Literal secret strings to mask wherever they occur.

    Returns
    -------
    Any
        A redacted copy of the same shape; other types are returned unchanged.
    """
    literal = [s for s in secrets if s]
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", errors="replace"), literal).encode("utf-8")
    if isinstance(value, str):
        text = _SECRET_IN_TEXT.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", value)
        for secret in literal:
            text = text.replace(secret, REDACTED)
        return text
    if isinstance(value, Mapping):
        return {
            k: REDACTED if str(k).lower() in SECRET_PARAMS else redact(v, literal)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                name, val = item
                secret = name.lower() in SECRET_PARAMS
                out.append((name, REDACTED if secret else redact(val, literal)))
            else:
                out.append(redact(item, literal))
        return type(value)(out)
    return value
