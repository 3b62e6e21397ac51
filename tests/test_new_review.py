"""Starting a review with ``livingmeta new-review``: the config keeps its comments, the
review's files have their headers, and the commands pick the only review themselves."""

from __future__ import annotations

import csv
import difflib
from pathlib import Path

import pytest

from livingmeta.cli import main
from livingmeta.cli.new_review import EXTRACTION_COLUMNS, config_with_review
from livingmeta.config import REPO_ROOT, load_config, reviews
from livingmeta.screening.decisions import DECISION_COLUMNS
from livingmeta.screening.queue import QUEUE_COLUMNS
from livingmeta.screening.studies import STUDY_COLUMNS

MINIMAL = """\
# The portfolio.
reviews:
  # The first review.
  - id: first
    title: First review  # shown on plots
    outcomes:
      - name: death
        label: Death

# How figures are written.
plots:
  dpi: 100
"""


def header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def test_entry_is_appended_and_every_comment_kept():
    text = config_with_review(MINIMAL, "second", "Second: a review", None, Path("reviews/second"))
    lines = text.splitlines()
    assert lines[:8] == MINIMAL.splitlines()[:8]
    # The comment that followed the reviews still comes right before `plots:`.
    assert lines[-3:] == ["# How figures are written.", "plots:", "  dpi: 100"]
    assert "  - id: second" in lines and '    title: "Second: a review"' in lines
    assert any("# One entry per outcome to pool" in line for line in lines)
    assert not any("question:" in line for line in lines)  # none given: none written


def test_shipped_config_is_kept_byte_for_byte_before_the_new_entry():
    text = (REPO_ROOT / "config" / "config.yaml").read_text(encoding="utf-8")
    new = config_with_review(text, "tnk", "T", "Q?", Path("reviews/tnk"))
    matcher = difflib.SequenceMatcher(None, text.splitlines(), new.splitlines(), autojunk=False)
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    assert len(changes) == 1 and changes[0][0] == "insert", changes
    inserted = new.splitlines()[changes[0][3] : changes[0][4]]
    assert inserted[0] == "  - id: tnk" and all(line.startswith("    ") for line in inserted[1:])


def test_existing_id_is_refused():
    with pytest.raises(ValueError, match="already has a review 'first'"):
        config_with_review(MINIMAL, "first", "T", None, Path("reviews/first"))


@pytest.fixture
def started(tmp_path, monkeypatch):
    """A folder whose config holds one review, started with ``new-review``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("reviews: []\n", encoding="utf-8")
    args = ["new-review", "tnk", "--title", "Tenecteplase", "--question", "Does it work?"]
    assert main(args) == 0
    return tmp_path


def test_new_review_writes_every_file_with_its_header(started, capsys):
    review = reviews(load_config("config/config.yaml"))["tnk"]
    assert review.spec["searches"] == [] and review.outcomes == ()
    files = review.files
    assert header(files.queue) == list(QUEUE_COLUMNS)
    assert header(files.decisions) == list(DECISION_COLUMNS)
    assert header(files.studies) == list(STUDY_COLUMNS)
    assert header(files.extraction) == list(EXTRACTION_COLUMNS)
    assert all(len(p.read_text().splitlines()) == 1 for p in (files.queue, files.extraction))
    assert main(["validate"]) == 0
    assert "valid; 1 review(s) checked: tnk" in capsys.readouterr().out


def test_status_picks_the_only_review(started, capsys):
    assert main(["status"]) == 0
    assert "Review tnk: 0 records in the queue" in capsys.readouterr().out


def test_status_asks_which_review_when_there_are_several(started, capsys):
    assert main(["new-review", "other", "--title", "Other"]) == 0
    assert main(["status"]) == 2
    assert "name one with --review: tnk, other" in capsys.readouterr().err


def test_a_second_start_does_not_overwrite(started, capsys):
    (started / "config" / "config.yaml").write_text("reviews: []\n", encoding="utf-8")
    assert main(["new-review", "tnk", "--title", "Again"]) == 2
    assert "reviews/tnk already exists and is not empty" in capsys.readouterr().err
    assert (started / "config" / "config.yaml").read_text() == "reviews: []\n"


@pytest.mark.parametrize("role", ["queue", "decisions", "studies", "extraction"])
def test_every_file_saved_with_semicolons_is_refused_saying_so(started, capsys, role):
    path = getattr(reviews(load_config("config/config.yaml"))["tnk"].files, role)
    path.write_text(path.read_text().replace(",", ";"), encoding="utf-8")
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert f"{path}, row 1: columns are separated by semicolons, not commas" in err


def test_an_id_the_schema_refuses_is_refused_before_anything_is_written(started, capsys):
    before = (started / "config" / "config.yaml").read_text()
    assert main(["new-review", "tnk stroke: 2", "--title", "T"]) == 2
    assert "'tnk stroke: 2' cannot be a review id" in capsys.readouterr().err
    assert (started / "config" / "config.yaml").read_text() == before


def test_prisma_of_a_review_nothing_has_reached_yet_is_all_zeros():
    from livingmeta.report.prisma import NO_SOURCE_YET, assemble_counts

    screening = dict.fromkeys(
        ("records_screened", "records_excluded", "reports_assessed", "reports_excluded"), 0
    )
    counts = assemble_counts({}, {**screening, "reports_included": 0})
    assert counts["identified"] == {NO_SOURCE_YET: 0}
    assert counts["screened"] == counts["total_studies"] == counts["total_reports"] == 0


def test_prisma_names_imported_databases_as_they_are_spelt():
    """Imports store a source lower-cased (``embase``); the diagram prints Embase, Web of
    Science, and an unknown database with its words capitalised."""
    from livingmeta.report.prisma import assemble_counts

    found = {
        source: {"identified": 2, "duplicates_removed": 0, "to_screen": 2}
        for source in ("pubmed", "embase", "web-of-science", "cochrane-central", "my-registry")
    }
    screening = dict.fromkeys(
        ("records_screened", "records_excluded", "reports_assessed", "reports_excluded"), 0
    )
    screening["records_screened"] = 10
    screening["records_excluded"] = 10
    counts = assemble_counts(found, {**screening, "reports_included": 0})
    assert list(counts["identified"]) == [
        "PubMed",
        "Embase",
        "Web of Science",
        "Cochrane CENTRAL",
        "My Registry",
    ]
