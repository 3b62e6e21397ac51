"""Declared characteristics (fields) and arms, read from a review's config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_TABLE = "Characteristics of included studies"


@dataclass(frozen=True)
class Field:
    """One characteristic: ``kind`` says how its values are summarised, ``level`` whether
    it has one value per study or per arm, ``table`` which table prints it."""

    name: str
    label: str
    kind: str
    level: str = "study"
    table: str = DEFAULT_TABLE
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Arm:
    """An arm of per-arm fields (``key`` as in the ``arm`` column, ``label`` as printed)."""

    key: str
    label: str


@dataclass(frozen=True)
class CharacteristicsSettings:
    """The parsed ``characteristics`` entry of a review."""

    fields: tuple[Field, ...]
    arms: tuple[Arm, ...]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def tables(self) -> tuple[str, ...]:
        """Table titles in the order their first field is declared."""
        return tuple(dict.fromkeys(f.table for f in self.fields))


def settings_from_config(
    fragment: Mapping[str, Any], source: str = "characteristics"
) -> CharacteristicsSettings:
    """Validate the ``characteristics`` config fragment and build the settings.

    Raises
    ------
    livingmeta.config.ConfigError
        Naming every invalid key, a repeated field name, or a choice field without choices.
    """
    from livingmeta.config import ConfigError, validate_fragment

    spec, problems = validate_fragment(fragment, "characteristics", source)
    if not problems:
        problems += _semantic_problems(spec, source)
    if problems:
        raise ConfigError("invalid characteristics config:\n  " + "\n  ".join(problems))
    fields = tuple(
        Field(
            name=f["name"],
            label=f["label"],
            kind=f["kind"],
            level=f["level"],
            table=f["table"],
            choices=tuple(f.get("choices", ())),
        )
        for f in spec["fields"]
    )
    arms = tuple(Arm(a["key"], a["label"]) for a in spec["arms"])
    return CharacteristicsSettings(fields, arms)


def _semantic_problems(spec: dict[str, Any], source: str) -> list[str]:
    problems = []
    seen: set[str] = set()
    for i, field in enumerate(spec["fields"]):
        where = f"{source}.fields[{i}]"
        if field["name"] in seen:
            problems.append(f"{where}.name: {field['name']!r} is declared twice")
        seen.add(field["name"])
        if field["kind"] == "choice" and not field.get("choices"):
            problems.append(f"{where}.choices: a choice field needs its choices")
    keys = [a["key"] for a in spec["arms"]]
    if len(set(keys)) != len(keys):
        problems.append(f"{source}.arms: arm keys must be unique; got {keys}")
    return problems
