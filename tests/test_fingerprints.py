"""What the Snakefile reads from reviewers' files, remembered by their bytes: recalled
only while every file, the settings and livingmeta's code are unchanged."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import livingmeta.fingerprints as fingerprints
from livingmeta.fingerprints import FileMemory, outcome_digest
from livingmeta.outcomes import Outcome


class Counted:
    """A computation that counts its calls."""

    def __init__(self, value: object):
        self.value, self.calls = value, 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "extraction.csv"
    path.write_text("study_id,outcome\ns1,death\n", encoding="utf-8")
    return path


def test_a_value_is_recalled_while_its_files_and_settings_are_unchanged(tmp_path, table):
    memory = FileMemory(tmp_path / "memory")
    compute = Counted({"s1": ["Smith 2020"]})
    assert memory.value("labels", [table], {"a": 1}, compute) == {"s1": ["Smith 2020"]}
    assert memory.value("labels", [table], {"a": 1}, compute) == {"s1": ["Smith 2020"]}
    assert compute.calls == 1
    memory.value("labels", [table], {"a": 2}, compute)  # other settings
    memory.value("other", [table], {"a": 1}, compute)  # another value of the same file
    assert compute.calls == 3


def test_any_change_of_a_files_bytes_is_seen_even_at_the_same_size_and_time(tmp_path, table):
    """Keyed by content, not by modification time: an edit within the same clock tick,
    or a file restored with its old time, is still seen."""
    memory = FileMemory(tmp_path / "memory")
    compute = Counted("first")
    memory.value("rows", [table], None, compute)
    stat = table.stat()
    table.write_text("study_id,outcome\ns2,death\n", encoding="utf-8")  # same size
    os.utime(table, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    compute.value = "second"
    assert memory.value("rows", [table], None, compute) == "second"
    assert compute.calls == 2


def test_a_missing_file_is_a_state_of_its_own(tmp_path):
    memory = FileMemory(tmp_path / "memory")
    later = tmp_path / "decisions.csv"
    compute = Counted([])
    assert memory.value("removed", [later], None, compute) == []
    later.write_text("record_id\n", encoding="utf-8")
    memory.value("removed", [later], None, compute)
    assert compute.calls == 2


def test_a_new_version_of_livingmeta_computes_again(tmp_path, table, monkeypatch):
    memory = FileMemory(tmp_path / "memory")
    compute = Counted("value")
    memory.value("rows", [table], None, compute)
    monkeypatch.setattr(fingerprints, "code_fingerprint", lambda: "another version")
    memory.value("rows", [table], None, compute)
    assert compute.calls == 2


def test_a_damaged_or_unwritable_memory_is_computed_again_never_trusted(tmp_path, table):
    memory = FileMemory(tmp_path / "memory")
    compute = Counted("right")
    memory.value("rows", [table], None, compute)
    [stored] = (tmp_path / "memory").glob("*.json")
    for damage in ('{"valu', '{"other": 1}', "[1, 2]"):
        stored.write_text(damage, encoding="utf-8")
        assert memory.value("rows", [table], None, compute) == "right"
    assert compute.calls == 4
    blocked = tmp_path / "a file"
    blocked.write_text("", encoding="utf-8")
    nowhere = FileMemory(blocked / "memory")  # a folder below a file cannot be made
    assert nowhere.value("rows", [table], None, compute) == "right"


def test_values_unused_for_a_month_are_forgotten_when_one_is_stored(tmp_path, table):
    FileMemory(tmp_path / "memory").value("rows", [table], 1, Counted("old"))
    FileMemory(tmp_path / "memory").value("rows", [table], 2, Counted("recent"))
    old, recent = sorted((tmp_path / "memory").glob("*.json"), key=lambda p: p.read_text())
    month_ago = time.time() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    os.utime(recent, (month_ago, month_ago))
    memory = FileMemory(tmp_path / "memory")  # the next run
    memory.value("rows", [table], 2, Counted("recent"))  # recalled: marked as used
    memory.value("rows", [table], 3, Counted("new"))  # stored: the unused are forgotten
    assert not old.exists() and recent.exists()


def test_a_recalled_value_is_the_computed_one_in_its_order_too(tmp_path, table):
    """Snakemake compares params by their text: a dict recalled in another order would
    rerun the step that takes it."""
    labels = {"s2": ["Zhou 2021"], "s1": ["Adams 2019", "Adams 2019 (b)"]}
    memory = FileMemory(tmp_path / "memory")
    computed = memory.value("labels", [table], None, Counted(labels))
    recalled = memory.value("labels", [table], None, Counted(None))
    assert repr(recalled) == repr(computed) == repr(labels)


def test_a_value_read_from_a_file_edited_meanwhile_is_not_remembered(tmp_path, table):
    """Its key was made from the bytes before the edit: if the file went back to them,
    the value of the edited file would be recalled."""
    memory = FileMemory(tmp_path / "memory")

    def edited_while_read() -> str:
        table.write_text("study_id,outcome\ns1,stroke\n", encoding="utf-8")
        return "rows of the edited file"

    assert memory.value("rows", [table], None, edited_while_read) == "rows of the edited file"
    assert not list((tmp_path / "memory").glob("*.json"))


@pytest.mark.parametrize(
    "text",
    [
        "study_id,outcome,events_e\ns1,death,3\ns2,stroke,4\n",
        "study_id;outcome\ns1;death\n",  # refused by the table's check: the reason counts
        "",
    ],
)
def test_an_outcome_digest_is_the_same_recalled_or_read(tmp_path, text):
    table = tmp_path / "extraction.csv"
    table.write_text(text, encoding="utf-8")
    outcome = Outcome("death", "Death")
    memory = FileMemory(tmp_path / "memory")
    read = outcome_digest(table, outcome, ["s9"])
    assert outcome_digest(table, outcome, ["s9"], memory) == read  # computed and stored
    assert outcome_digest(table, outcome, ["s9"], memory) == read  # recalled
    assert outcome_digest(table, outcome, [], memory) != read
    assert outcome_digest(table, Outcome("stroke", "Stroke"), ["s9"], memory) != read
