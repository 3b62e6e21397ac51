"""A review's risk-of-bias settings: which tool rates which study, read from config.

The config fragment is validated against ``config.schema.yaml`` shipped with this
package (every key described there), then checked for what a schema cannot say: tool
names that exist, and each study rated by one tool only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from livingmeta.risk_of_bias import OVERALL
from livingmeta.risk_of_bias.model import Domain, Level, Tool
from livingmeta.risk_of_bias.nos import nos_case_control, nos_cohort
from livingmeta.risk_of_bias.rob2 import rob2
from livingmeta.risk_of_bias.robins_i import robins_i

SENSITIVITY_RULES = ("low_only", "not_high", "none")
BUILT_IN = ("rob2", "robins_i", "nos_cohort", "nos_case_control")


@dataclass(frozen=True, eq=False)
class ToolUse:
    """A tool and what it rates: ``studies`` None means every study not rated otherwise;
    ``outcomes`` None means every outcome (per-outcome tools)."""

    tool: Tool
    studies: tuple[str, ...] | None = None
    outcomes: tuple[str, ...] | None = None


@dataclass(frozen=True, eq=False)
class RiskOfBiasSettings:
    """The parsed ``risk_of_bias`` entry of a review (see ``config.schema.yaml``)."""

    uses: tuple[ToolUse, ...]
    assessors_required: int = 2
    sensitivity: str = "not_high"

    def use_for(self, study_id: str) -> ToolUse | None:
        """The use listing ``study_id``, else the default use (None: not rated)."""
        listed = next((u for u in self.uses if u.studies and study_id in u.studies), None)
        return listed or next((u for u in self.uses if u.studies is None), None)

    def tool_for(self, study_id: str) -> Tool | None:
        """The tool rating ``study_id`` (None when no tool rates it)."""
        use = self.use_for(study_id)
        return use.tool if use is not None else None

    def rates_outcome(self, study_id: str, outcome: str) -> bool:
        """True if the study's tool rates ``outcome`` (always, for study-level tools)."""
        use = self.use_for(study_id)
        if use is None:
            return False
        return not use.tool.per_outcome or use.outcomes is None or outcome in use.outcomes


def settings_from_config(
    fragment: Mapping[str, Any], source: str = "risk_of_bias"
) -> RiskOfBiasSettings:
    """Validate the ``risk_of_bias`` config fragment and build the settings.

    Parameters
    ----------
    fragment
        The mapping under a review's ``risk_of_bias`` key (not modified).
    source
        Prefix of error messages, e.g. ``reviews[rescue_stenting].risk_of_bias``.

    Raises
    ------
    livingmeta.config.ConfigError
        Naming every invalid key, unknown tool or study rated by two tools.
    """
    from livingmeta.config import ConfigError, validate_fragment

    spec, problems = validate_fragment(fragment, "risk_of_bias", source)
    if not problems:
        custom = {c["id"]: custom_tool(c) for c in spec.get("custom_tools", [])}
        problems += _clashes(custom, source)
        uses = [
            _use(entry, custom, f"{source}.tools[{i}]") for i, entry in enumerate(spec["tools"])
        ]
        problems += [use for use in uses if isinstance(use, str)]
        problems += _overlaps(spec["tools"], source)
    if problems:
        raise ConfigError("invalid risk_of_bias config:\n  " + "\n  ".join(problems))
    return RiskOfBiasSettings(
        uses=tuple(u for u in uses if isinstance(u, ToolUse)),
        assessors_required=spec["assessors_required"],
        sensitivity=spec["sensitivity"],
    )


def built_in_tool(key: str, effect: str = "assignment") -> Tool:
    """One of :data:`BUILT_IN` by key."""
    if key == "rob2":
        return rob2(effect)
    makers = {"robins_i": robins_i, "nos_cohort": nos_cohort, "nos_case_control": nos_case_control}
    if key not in makers:
        raise ValueError(f"unknown tool {key!r}; built in: {', '.join(BUILT_IN)}")
    return makers[key]()


def custom_tool(spec: Mapping[str, Any]) -> Tool:
    """A tool declared in config: levels best first, overall = the worst domain."""
    levels = [
        Level(level["key"], level["label"], level["risk"], severity, level.get("colour", ""))
        for severity, level in enumerate(spec["levels"])
    ]
    domains = tuple(Domain(d["key"], d["label"], d.get("short", d["key"])) for d in spec["domains"])
    return Tool(
        key=spec["id"],
        label=spec["label"],
        levels=tuple(levels),
        domains=domains,
        per_outcome=bool(spec.get("per_outcome", False)),
    )


def _use(entry: Mapping[str, Any], custom: Mapping[str, Tool], where: str) -> ToolUse | str:
    name = entry["tool"]
    if name in custom:
        tool = custom[name]
    elif name in BUILT_IN:
        tool = built_in_tool(name, entry.get("effect", "assignment"))
    else:
        known = ", ".join([*BUILT_IN, *custom])
        return f"{where}.tool: unknown tool {name!r}; known: {known}"
    studies = tuple(entry["studies"]) if "studies" in entry else None
    outcomes = tuple(entry["outcomes"]) if "outcomes" in entry else None
    if outcomes is not None and not tool.per_outcome:
        return f"{where}.outcomes: {name} rates whole studies, not outcomes"
    return ToolUse(tool, studies, outcomes)


def _clashes(custom: Mapping[str, Tool], source: str) -> list[str]:
    """Custom tools named like a built-in one, or with repeated or reserved keys."""
    problems = []
    for i, (key, tool) in enumerate(custom.items()):
        where = f"{source}.custom_tools[{i}]"
        if key in BUILT_IN:
            problems.append(f"{where}.id: {key!r} is the name of a built-in tool")
        levels = [level.key for level in tool.levels]
        domains = [domain.key.casefold() for domain in tool.domains]
        if len(set(levels)) != len(levels):
            problems.append(f"{where}.levels: keys must be unique; got {levels}")
        if len(set(domains)) != len(domains) or OVERALL in domains:
            problems.append(f"{where}.domains: keys must be unique and not {OVERALL!r}")
    return problems


def _overlaps(entries: list[dict[str, Any]], source: str) -> list[str]:
    problems = []
    defaults = [i for i, e in enumerate(entries) if "studies" not in e]
    if len(defaults) > 1:
        problems.append(
            f"{source}.tools: entries {defaults} all lack `studies`; only one can be the default"
        )
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        for study in entry.get("studies", []):
            if study in seen:
                problems.append(
                    f"{source}.tools[{i}].studies: {study!r} is already rated by "
                    f"tools[{seen[study]}]"
                )
            seen.setdefault(study, i)
    return problems
