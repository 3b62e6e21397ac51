"""Untrusted text shown in a terminal or page cannot act on it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from livingmeta.display import BIDI_CONTROLS, printable


def test_escape_sequences_controls_and_bidi_overrides_are_made_visible() -> None:
    hostile = "Aspirin\x1b]8;;http://evil\x1b\\trial\x1b[31m red\x1b[0m\r\n\u202egnp.exe\x00"
    shown = printable(hostile)
    assert "\x1b" not in shown and "\u202e" not in shown and "\x00" not in shown
    assert shown == "Aspirin␛]8;;http://evil␛\\trial␛[31m red␛[0m [U+202E]gnp.exe␀"
    assert printable("line one\nline two", keep_newlines=True) == "line one\nline two"
    assert printable("Müller\u00a0et al. — 2023") == "Müller\u00a0et al. — 2023"


@given(st.text())
def test_nothing_that_acts_survives(text: str) -> None:
    shown = printable(text)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in shown)
    assert not BIDI_CONTROLS & set(shown)


def test_screen_shows_hostile_records_inert() -> None:
    from livingmeta.cli.screen import describe_record

    record = {
        "record_id": "pubmed:1",
        "title": "Stenting\x1b[2J\x1b[H trial \u202etxt.exe",
        "abstract": "Background\nline two\x07",
        "dois": "10.1000/ok; 10.1000/x y",
        "pmids": "1",
    }
    shown = describe_record(record, loaded=None)  # type: ignore[arg-type]
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "Stenting␛[2J␛[H trial [U+202E]txt.exe" in shown
    assert "https://doi.org/10.1000/ok" in shown
    assert "DOI 10.1000/x y (invalid)" in shown
    assert "Background\nline two␇" in shown
