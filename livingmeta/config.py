"""Loading and validating the workflow config (``config/config.yaml``).

The JSON schemas ship with the package (``livingmeta/schemas/``, read with
:mod:`importlib.resources` so an installed wheel finds them; ``workflow/schemas`` links
there for Snakemake users); this module validates against them with messages that name
the key, and fills in the documented defaults. :class:`ReviewFiles` names every file of a
review, so no step builds a path of its own.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

from livingmeta.outcomes import MEASURES_OF_TYPE, Outcome

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The outcome type that is extracted and described per study, not pooled.
DESCRIPTIVE = "descriptive"


class ConfigError(ValueError):
    """The config is invalid; the message names the offending key."""


def parse_yaml(text: str | IO[str]) -> Any:
    """The YAML document in ``text``, parsed by libyaml when PyYAML has it (ten times
    faster: every Snakemake run and job reads the config and its schemas)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema shipped in ``livingmeta/schemas/``, by file name (read once per process;
    callers must not change it)."""
    schema = resources.files("livingmeta").joinpath("schemas", name)
    return parse_yaml(schema.read_text(encoding="utf-8"))


def _with_defaults(validator_class: Any) -> Any:
    """A validator that also fills ``default`` values (as snakemake's ``validate`` does)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator: Any, properties: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if isinstance(instance, dict):
            for prop, subschema in properties.items():
                if "default" in subschema and prop not in instance:
                    instance[prop] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    import jsonschema

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def key_path(path: Any) -> str:
    """``['reviews', 0, 'outcomes']`` -> ``reviews[0].outcomes``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validate_config(config: dict[str, Any], source: str = "config") -> dict[str, Any]:
    """Validate ``config`` in place against ``config.schema.yaml``, filling defaults.

    Raises
    ------
    ConfigError
        Naming every invalid key, e.g. ``config/config.yaml: reviews[0].outcomes[1].measure:
        'XX' is not one of ['OR', ...]``.
    """
    schema = load_schema("config.schema.yaml")
    from jsonschema import Draft202012Validator

    _measure_defaults(config)
    validator = _with_defaults(Draft202012Validator)(schema, registry=_fragment_registry())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        from livingmeta.config_messages import schema_error_lines

        lines = [f"{source}: {line}" for e in errors for line in schema_error_lines(config, e)]
        raise ConfigError("invalid config:\n  " + "\n  ".join(lines))
    _check_semantics(config, source)
    return config


def _measure_defaults(config: Any) -> None:
    """Fill the ``type`` and ``method`` an outcome's ``measure`` implies when they are left
    out (``measure: MD`` is continuous data pooled by inverse variance; Mantel-Haenszel,
    the schema's default, is for OR, RR and RD only), before the schema's defaults."""
    reviews = config.get("reviews") if isinstance(config, dict) else None
    for review in reviews if isinstance(reviews, list) else []:
        outcomes = review.get("outcomes") if isinstance(review, dict) else None
        for spec in outcomes if isinstance(outcomes, list) else []:
            measure = spec.get("measure") if isinstance(spec, dict) else None
            implied = next((t for t, ms in MEASURES_OF_TYPE.items() if measure in ms), None)
            if implied in ("continuous", "generic"):
                spec.setdefault("type", implied)
                spec.setdefault("method", "IV")


#: Config fragments whose schemas ship with their package, as ``$ref``'d by the main schema.
FRAGMENT_SCHEMAS = ("risk_of_bias", "characteristics")


def _fragment_registry() -> Any:
    """The packages' fragment schemas under ``livingmeta:<package>/config.schema.yaml``,
    so the main schema refers to them and each is written (and validated) once."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    entries = [
        (f"livingmeta:{name}/config.schema.yaml", Resource(fragment_schema(name), DRAFT202012))
        for name in FRAGMENT_SCHEMAS
    ]
    return Registry().with_resources(entries)


@cache
def fragment_schema(package: str) -> dict[str, Any]:
    """``livingmeta/<package>/config.schema.yaml`` (package data), a package of
    :data:`FRAGMENT_SCHEMAS` (read once per process; callers must not change it)."""
    text = resources.files("livingmeta").joinpath(package, "config.schema.yaml").read_text("utf-8")
    return parse_yaml(text)


def validate_fragment(
    fragment: Mapping[str, Any], package: str, source: str
) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``fragment`` with its schema's defaults filled, and what breaks the schema.

    Why: a package parses its own fragment (``risk_of_bias``, ``characteristics``) with
    the same defaults and messages as :func:`validate_config`, each message naming the key
    under ``source`` (e.g. ``reviews[0].risk_of_bias.tools[1].tool: ...``).
    """
    from jsonschema import Draft202012Validator

    spec = copy.deepcopy(dict(fragment))
    validator = _with_defaults(Draft202012Validator)(fragment_schema(package))
    errors = sorted(validator.iter_errors(spec), key=lambda e: list(e.absolute_path))
    return spec, [f"{source}.{key_path(e.absolute_path)}: {e.message}" for e in errors]


def _check_semantics(config: dict[str, Any], source: str) -> None:
    """Rules a JSON schema cannot say: unique ids, valid option combinations."""
    problems: list[str] = []
    seen: set[str] = set()
    for i, review in enumerate(config["reviews"]):
        if review["id"] in seen:
            problems.append(f"reviews[{i}].id: duplicate review id {review['id']!r}")
        seen.add(review["id"])
        names: set[str] = set()
        for spec in review["outcomes"]:
            where = f"reviews[{review['id']}].outcomes[{spec['name']}]"
            if spec["name"] in names:
                problems.append(f"{where}.name: duplicate outcome {spec['name']!r}")
            names.add(spec["name"])
            if spec["type"] == DESCRIPTIVE:
                continue
            try:
                Outcome.from_config(outcome_spec(review, spec))
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
        problems += _fragment_problems(review, i)
    if problems:
        raise ConfigError("invalid config:\n  " + "\n  ".join(f"{source}: {p}" for p in problems))


def _fragment_problems(review: dict[str, Any], index: int) -> list[str]:
    """What the risk-of-bias and characteristics settings say beyond their schemas."""
    from livingmeta.characteristics.fields import settings_from_config as characteristics
    from livingmeta.risk_of_bias.settings import settings_from_config as risk_of_bias

    problems = []
    for key, parse in (("risk_of_bias", risk_of_bias), ("characteristics", characteristics)):
        if key in review:
            try:
                parse(review[key], source=f"reviews[{index}].{key}")
            except ConfigError as exc:
                problems += [line.strip() for line in str(exc).splitlines()[1:]]
    return problems


#: Outcome settings a review can set once for all its outcomes (an outcome may override).
REVIEW_WIDE_OUTCOME_KEYS = ("convention",)


def outcome_spec(review_spec: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """An outcome's config entry with the settings it inherits from its review."""
    inherited = {k: review_spec[k] for k in REVIEW_WIDE_OUTCOME_KEYS if k in review_spec}
    return {**inherited, **spec}


def read_yaml(path: str | Path) -> Any:
    """The YAML document in ``path``.

    Raises
    ------
    ConfigError
        A syntax error, naming the file, line and column.
    """
    import yaml

    text = Path(path).read_text(encoding="utf-8")
    try:
        return parse_yaml(text)
    except yaml.YAMLError:
        pass
    try:  # the pure-Python parser's message says more about where the error is
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        from livingmeta.config_messages import yaml_syntax_message

        raise ConfigError(yaml_syntax_message(str(path), exc)) from None


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate a YAML config file."""
    return validate_config(read_yaml(path) or {}, str(path))


@dataclass(frozen=True)
class RetrievalFiles:
    """The files of a review's retrieval state folder, which the search step receives
    as one path (``ReviewFiles.state``) and updates in place, as ``livingmeta import``
    does: the names inside it are given here only."""

    state: Path

    @property
    def registry(self) -> Path:
        """Folder of the deduplicated record registry."""
        return self.state / "registry"

    @property
    def search_state(self) -> Path:
        """Search windows and source health (``state.json``)."""
        return self.state / "state.json"

    @property
    def snapshots(self) -> Path:
        """Raw source responses, one folder per run."""
        return self.state / "snapshots"

    @property
    def imports_log(self) -> Path:
        """Appended by ``livingmeta import``; the search step hands those records over."""
        return self.state / "imports.log"


@dataclass(frozen=True)
class ReviewFiles:
    """Every file of one review, by role (paths relative to the workflow folder).

    Human-edited files live in the review folder (``reviews/<id>/`` unless ``folder:``
    says otherwise), retrieval state in ``state`` (``<folder>/retrieval``). Steps and
    commands take their paths from here, and the rules declare them from here, so a file
    is named in one place.
    """

    folder: Path
    extraction: Path
    state: Path

    @property
    def studies(self) -> Path:
        """Included studies (``studies.csv``), appended by the screening step."""
        return self.folder / "studies.csv"

    @property
    def queue(self) -> Path:
        """Records handed to reviewers (append-only)."""
        return self.folder / "screening" / "queue.csv"

    @property
    def decisions(self) -> Path:
        """The reviewers' screening decisions (append-only)."""
        return self.folder / "screening" / "decisions.csv"

    @property
    def drafts(self) -> Path:
        """Folder of the extractors' draft tables (``<folder>/extraction/*.csv``)."""
        return self.folder / "extraction"

    @property
    def history(self) -> Path:
        """Pooled estimates of every run, kept with the review's files."""
        return self.folder / "history.csv"

    @property
    def reports(self) -> Path:
        """Archived run reports, ``<run id>.html`` each, kept with the review's files (in
        version control), unlike the rebuilt ``results/``."""
        return self.folder / "reports"

    @property
    def retrieval(self) -> RetrievalFiles:
        """The files of the retrieval state folder (``state``)."""
        return RetrievalFiles(self.state)

    @property
    def registry(self) -> Path:
        """Folder of the deduplicated record registry."""
        return self.retrieval.registry

    @property
    def search_state(self) -> Path:
        """Search windows and source health (``state.json``)."""
        return self.retrieval.search_state

    @property
    def snapshots(self) -> Path:
        """Raw source responses, one folder per run."""
        return self.retrieval.snapshots

    @property
    def imports_log(self) -> Path:
        """Appended by ``livingmeta import``; the search step hands those records over."""
        return self.retrieval.imports_log

    @property
    def risk_of_bias(self) -> Path:
        """Folder of risk-of-bias assessments."""
        return self.folder / "risk_of_bias"

    @property
    def characteristics(self) -> Path:
        """Characteristics of the included studies."""
        return self.folder / "characteristics.csv"

    @property
    def grade(self) -> Path:
        """GRADE ratings of the certainty of each outcome's evidence."""
        return self.folder / "grade.csv"

    def existing(self, *names: str) -> list[str]:
        """The named files that exist, as strings (rule inputs that may be absent)."""
        return [str(p) for p in (getattr(self, n) for n in names) if p.exists()]


@dataclass(frozen=True)
class Review:
    """One review of the portfolio, as declared in config (paths relative to the repo)."""

    id: str
    title: str
    folder: Path
    extraction: Path
    state: Path
    outcomes: tuple[Outcome, ...]
    spec: dict[str, Any]

    @property
    def files(self) -> ReviewFiles:
        """Every file of the review."""
        return ReviewFiles(self.folder, self.extraction, self.state)

    @property
    def descriptive(self) -> tuple[dict[str, Any], ...]:
        """The declared ``type: descriptive`` outcomes (described per study, not pooled)."""
        return tuple(o for o in self.spec["outcomes"] if o.get("type") == DESCRIPTIVE)

    def sequential(self, name: str) -> dict[str, Any] | None:
        """The ``sequential`` settings of the outcome ``name`` (None: not monitored)."""
        spec = next((o for o in self.spec["outcomes"] if o["name"] == name), {})
        return spec.get("sequential")

    def outcome(self, name: str) -> Outcome:
        """The declared outcome called ``name``."""
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        raise KeyError(f"review {self.id} declares no outcome {name!r}")


def choose_review(portfolio: Mapping[str, Review], review_id: str | None) -> Review:
    """The review a command works on: ``review_id`` (``--review``), or the config's only
    review when none is named.

    Raises
    ------
    ValueError
        No id with several reviews, or an unknown id (with the closest one suggested).
    """
    from livingmeta.config_messages import did_you_mean

    if not portfolio:
        raise ValueError("the config declares no review (see config/README.md)")
    names = ", ".join(portfolio)
    if review_id is None:
        if len(portfolio) == 1:
            return next(iter(portfolio.values()))
        raise ValueError(f"the config has several reviews; name one with --review: {names}")
    if review_id not in portfolio:
        hint = did_you_mean(review_id, list(portfolio))
        raise ValueError(f"unknown review {review_id!r}; the config has {names}{hint}")
    return portfolio[review_id]


def reviews(config: dict[str, Any]) -> dict[str, Review]:
    """The validated config's reviews by id."""
    out = {}
    for spec in config["reviews"]:
        folder = Path(spec.get("folder") or f"reviews/{spec['id']}")
        out[spec["id"]] = Review(
            id=spec["id"],
            title=spec.get("title", spec["id"]),
            folder=folder,
            extraction=Path(spec.get("extraction") or folder / "extraction.csv"),
            state=Path(spec.get("state") or folder / "retrieval"),
            outcomes=tuple(
                Outcome.from_config(outcome_spec(spec, o))
                for o in spec["outcomes"]
                if o.get("type") != DESCRIPTIVE
            ),
            spec=spec,
        )
    return out
