"""``livingmeta new-review ID --title ...``: start a review the workflow can run at once.

Why a command: a review is an entry in ``config/config.yaml`` plus a folder of files the
workflow reads (queue, decisions, studies, extraction table), each with an exact header.
Writing them by hand is where a new review used to break; this writes them all, keeps the
config's comments and order (ruamel.yaml round trip), and checks the result with the same
code as ``livingmeta validate`` before anything is written.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

from livingmeta.cli import add_config_option

HELP = "start a new review: its config entry and its files (headers, no rows)"

#: Columns of a new extraction table: identity, the arms of a dichotomous outcome (the
#: default type; other types add theirs), then provenance and approval.
EXTRACTION_COLUMNS = (
    "study_id", "study_label", "year", "outcome",
    "events_treat", "total_treat", "events_ctrl", "total_ctrl", "subgroup",
    "source", "extractor", "second_extractor", "approved_by", "approved_on", "notes",
)  # fmt: skip

#: The config entry of a new review; ``{...}`` fields are filled in, comments are kept.
ENTRY_TEMPLATE = """\
reviews:
  - id: {id}
    title: {title}
    question: {question}
    # Human-edited files (queue, decisions, studies, extraction table) live here.
    folder: {folder}
    # Saved searches re-run on every scheduled update, e.g.
    #   - {{id: pubmed_{id}, source: pubmed, start_date: "2020-01-01", query: "..."}}
    #   - {{id: ctgov_{id}, source: ctgov, cond: "...", intr: "..."}}
    # Records exported from other databases are added with `livingmeta import`.
    searches: []
    # Dual independent screening; `exclusion_reasons:` lists the reasons reviewers may
    # give at full text (default: the usual PICO reasons).
    screening:
      reviewers_required: 2
      stages: [title_abstract, full_text]
    # One entry per outcome to pool (rows of the extraction table refer to `name`), e.g.
    #   - {{name: mortality_90d, label: Mortality at 90 days, type: dichotomous,
    #      measure: OR, method: MH, model: random, direction: higher_is_worse}}
    outcomes: []
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``livingmeta new-review``."""
    parser.description = (
        "Add a commented review entry to the config (keeping its comments and order) and "
        "create reviews/ID/ with every file the workflow expects, each with its header "
        "and no rows. `livingmeta validate` and the workflow then run for it at once."
    )
    parser.add_argument("id", help="short identifier (letters, digits, _ and -)")
    parser.add_argument("--title", required=True, help="the review's title")
    parser.add_argument("--question", help="the review question (PICO), one or two sentences")
    add_config_option(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check, then write the config entry and the review's files."""
    from livingmeta.config import read_yaml, reviews, validate_config
    from livingmeta.files import write_text

    check_id(args.id)
    config_path = Path(args.config)
    read_yaml(config_path)  # a syntax error is reported with its line and column
    text = config_path.read_text(encoding="utf-8")
    folder = Path("reviews") / args.id
    new_text = config_with_review(text, args.id, args.title, args.question, folder)
    import yaml

    review = reviews(validate_config(yaml.safe_load(new_text), str(config_path)))[args.id]
    target = review.folder
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target} already exists and is not empty; choose another id")
    write_review_files(target, review.extraction.relative_to(review.folder))
    write_text(config_path, new_text)
    print(f"{config_path}: added review {args.id!r}; its files are in {target}")
    print("Next: add outcomes and searches to its entry, then run `livingmeta validate`.")
    return 0


def check_id(review_id: str) -> None:
    """Refuse an id the config schema would refuse, before it is written into YAML."""
    import re

    from livingmeta.config import load_schema

    review = load_schema("config.schema.yaml")["properties"]["reviews"]["items"]
    pattern = review["properties"]["id"]["pattern"]
    if not re.fullmatch(pattern, review_id):
        raise ValueError(
            f"{review_id!r} cannot be a review id: use letters, digits, _ and -, starting "
            "with a letter or digit"
        )


def _round_trip() -> Any:
    """A ruamel.yaml round-trip loader/dumper with the config's indentation."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _scalar(value: str) -> str:
    """``value`` as a YAML scalar on one line (quoted, so any text is safe)."""
    import json

    return json.dumps(" ".join(value.split()), ensure_ascii=False)


def config_with_review(
    text: str, review_id: str, title: str, question: str | None, folder: Path
) -> str:
    """``text`` (the config) with a commented entry for a new review appended.

    Raises
    ------
    ValueError
        If the config already has a review called ``review_id``.
    """
    yaml = _round_trip()
    config = yaml.load(text)
    if config is None or config.get("reviews") is None:  # a config still to be written
        config = yaml.load(f"{text.rstrip()}\nreviews:\n  - placeholder\n")
        config["reviews"].pop()
    config["reviews"].fa.set_block_style()
    existing = [review.get("id") for review in config["reviews"]]
    if review_id in existing:
        raise ValueError(f"the config already has a review {review_id!r}")
    entry_text = ENTRY_TEMPLATE.format(
        id=review_id,
        title=_scalar(title),
        question=_scalar(question or ""),
        folder=folder.as_posix(),
    )
    if not question:
        entry_text = entry_text.replace('    question: ""\n', "")
    entry = yaml.load(entry_text)["reviews"][0]
    following = _detach_trailing_comment(config["reviews"])
    config["reviews"].append(entry)
    if following:
        _attach_trailing_comment(entry, following)
    out = io.StringIO()
    yaml.dump(config, out)
    return out.getvalue()


def _detach_trailing_comment(node: Any) -> str:
    """Remove and return the comment lines that follow ``node`` (ruamel.yaml keeps them on
    its deepest last element), so that they stay after the entry appended to it."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        if node.ca.end:
            text = "".join(token.value for token in node.ca.end)
            node.ca.end = []
            return text
        last = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        slot = 2 if isinstance(node, CommentedMap) else 0
        entry = node.ca.items.get(last)
        if entry and entry[slot] is not None:
            same_line, _, following = entry[slot].value.partition("\n")
            if following:
                entry[slot].value = same_line + "\n"
                return following
        node = node[last]
    return ""


def _attach_trailing_comment(entry: Any, text: str) -> None:
    """Put comment lines ``text`` after the last key of mapping ``entry``."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    token = CommentToken("\n" + text, CommentMark(0), None)
    slots = entry.ca.items.setdefault(list(entry)[-1], [None, None, None, None])
    slots[2] = token


def write_review_files(folder: Path, extraction: Path) -> None:
    """The reviewers' files of a new review, each with its header and no rows (paths
    from ReviewFiles); the workflow creates the rest (registry, search state, history)."""
    from livingmeta.config import ReviewFiles
    from livingmeta.files import write_text
    from livingmeta.screening.decisions import DECISION_COLUMNS
    from livingmeta.screening.queue import QUEUE_COLUMNS
    from livingmeta.screening.studies import STUDY_COLUMNS

    files = ReviewFiles(folder, folder / extraction, folder / "retrieval")
    headers = {
        files.queue: QUEUE_COLUMNS,
        files.decisions: DECISION_COLUMNS,
        files.studies: STUDY_COLUMNS,
        files.extraction: EXTRACTION_COLUMNS,
    }
    for path, columns in headers.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text(path, ",".join(columns) + "\n")
