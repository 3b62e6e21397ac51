"""The extraction table's data contract: every problem reported at once, with file, row
(spreadsheet numbering, header = row 1) and column."""

from __future__ import annotations

import pytest

from livingmeta.extraction import load_extraction, outcome_data
from livingmeta.outcomes import Outcome
from livingmeta.stats.data import BinaryData, ContinuousData, GenericData
from livingmeta.validation import InputError

OUTCOMES = {
    "death": Outcome("death", "Death"),
    "pain": Outcome("pain", "Pain score", type="continuous", measure="MD", method="IV"),
    "hr": Outcome("hr", "Hazard ratio", type="generic", measure="GIV", method="IV"),
}
HEADER = (
    "study_id,study_label,year,outcome,events_treat,total_treat,events_ctrl,total_ctrl,"
    "mean_treat,sd_treat,n_treat,mean_ctrl,sd_ctrl,n_ctrl,yi,se,subgroup,notes\n"
)


def write(tmp_path, body: str, header: str = HEADER):
    path = tmp_path / "extraction.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def problems(tmp_path, body, header=HEADER):
    path = write(tmp_path, body, header)
    with pytest.raises(InputError) as info:
        load_extraction(path, OUTCOMES)
    return [(p.row, p.column, p.message) for p in info.value.problems], str(info.value), path


def test_valid_table_gives_typed_data_per_outcome(tmp_path):
    path = write(
        tmp_path,
        "a,Alpha 2001,2001,death,3,20,6,21,,,,,,,,,grp1,note\n"
        "b,Beta 2003,2003,death,0,15,2,15,,,,,,,,,grp2,\n"
        "a,Alpha 2001,2001,pain,,,,,5.5,1.2,20,6.1,1.3,21,,,,\n"
        "a,Alpha 2001,2001,hr,,,,,,,,,,,-0.2,0.1,,\n",
    )
    frame = load_extraction(path, OUTCOMES)
    death = outcome_data(frame, OUTCOMES["death"])
    assert isinstance(death, BinaryData)
    assert death.study == ("Alpha 2001", "Beta 2003")
    assert death.year == (2001, 2003) and death.subgroup == ("grp1", "grp2")
    assert death.events_treat.tolist() == [3, 0]
    assert isinstance(outcome_data(frame, OUTCOMES["pain"]), ContinuousData)
    assert isinstance(outcome_data(frame, OUTCOMES["hr"]), GenericData)


def test_every_problem_is_reported_at_once_with_row_and_column(tmp_path):
    found, message, path = problems(
        tmp_path,
        "a,A,2001,death,3.5,20,6,21,,,,,,,,,,\n"  # row 2: not whole
        "b,B,2002,death,25,20,-1,0,,,,,,,,,,\n"  # row 3: events > total, negative, zero total
        "c,C,20x1,death,x,20,1,20,,,,,,,,,,\n"  # row 4: year and number
        "d,D,2004,pain,,,,,5,0,10,5,1,10,,,,\n"  # row 5: sd 0
        "e,E,2005,hr,,,,,,,,,,,0.1,,,\n"  # row 6: se empty
        "f,F,2006,survival,1,2,3,4,,,,,,,,,,\n"  # row 7: undeclared outcome
        "a,A,2001,death,3,20,6,21,,,,,,,,,,\n",  # row 8: duplicate
    )
    assert (2, "events_treat", "'3.5' is not a whole number") in found
    assert (3, "events_treat", "25 events exceed the total of 20") in found
    assert (3, "events_ctrl", "must not be negative; got -1") in found
    assert (3, "total_ctrl", "must be greater than 0; got 0") in found
    assert (4, "year", "'20x1' is not a year") in found
    assert (4, "events_treat", "'x' is not a number") in found
    assert (5, "sd_treat", "must be greater than 0; got 0") in found
    assert (6, "se", "empty") in found
    assert any(
        row == 7 and col == "outcome" and "unknown outcome 'survival'" in msg
        for row, col, msg in found
    )
    assert any(
        row == 8 and "duplicate study x outcome (a, death); first at row 2" in msg
        for row, _, msg in found
    )
    assert message.startswith(f"{len(found)} problems found:")
    assert f"{path}, row 3, column 'events_treat'" in message


def test_missing_column_is_named(tmp_path):
    header = "study_id,outcome,events_treat,total_treat,events_ctrl\n"
    found, _, _ = problems(tmp_path, "a,death,1,10,2\n", header)
    assert found == [
        (
            None,
            "total_ctrl",
            "column missing (total_ctrl): the dichotomous outcome 'death' needs events_treat, "
            "total_treat, events_ctrl, total_ctrl (in a review, "
            "results/<review>/extraction/template.csv has the full header)",
        )
    ]


def test_missing_columns_of_one_type_are_one_problem_with_a_hint(tmp_path):
    """Means asked of a file of events: one problem naming every missing column."""
    header = "study_id,outcome,events_treat,total_treat,events_ctrl,total_ctrl\n"
    found, _, _ = problems(tmp_path, "a,pain,1,10,2,10\n", header)
    assert [(row, column) for row, column, _ in found] == [(None, "mean_ctrl")]
    message = found[0][2]
    assert message.startswith(
        "columns missing (mean_ctrl, mean_treat, n_ctrl, n_treat, sd_ctrl, sd_treat): "
        "the continuous outcome 'pain' needs"
    )
    assert message.endswith("; the file has the dichotomous columns: pool them with OR, RR or RD")


def test_numbers_in_another_type_s_columns_are_named(tmp_path):
    """Events typed in a continuous outcome's row (or means in a dichotomous one's) are
    never pooled: an error, whatever the row's own columns hold."""
    body = (
        "a,,,pain,3,20,6,21,5.1,1.2,20,4.0,1.1,21,,,,\n"
        "b,,,death,,,,,5.1,1.2,20,4.0,1.1,21,,,,\n"
        "c,,,hr,3,20,6,21,,,,,,,0.1,0.2,,\n"  # generic rows may keep other numbers
    )
    found, _, _ = problems(tmp_path, body)
    assert [(row, column) for row, column, _ in found] == [(2, "events_treat"), (3, "mean_treat")]
    assert found[0][2].startswith(
        "dichotomous numbers (events_treat, total_treat, events_ctrl, total_ctrl) in a row of "
        "the continuous outcome 'pain', which reads mean_treat"
    )


def test_unreadable_file_is_reported_not_raised_raw(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        load_extraction(tmp_path / "nope.csv", OUTCOMES)
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="not a readable CSV"):
        load_extraction(path, OUTCOMES)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputError, match="row 1: the file is empty: it needs at least its header"):
        load_extraction(empty, OUTCOMES)


def test_a_decimal_comma_gets_its_fix():
    from livingmeta.validation import not_a_number

    assert not_a_number("450,5") == "'450,5' is not a number (write decimals with a point: 450.5)"
    assert not_a_number("abc") == "'abc' is not a number"
    # Three digits after the comma may be thousands: both readings are offered.
    assert not_a_number("1,000") == (
        "'1,000' is not a number (write 1000 without a thousands separator, or 1.000 if "
        "the comma is a decimal comma)"
    )


def test_minimal_file_with_study_column_and_single_outcome(tmp_path):
    path = write(
        tmp_path,
        "A,1,10,2,10\nB,3,12,1,11\n",
        "study,events_treat,total_treat,events_ctrl,total_ctrl\n",
    )
    only = {"death": OUTCOMES["death"]}
    data = outcome_data(load_extraction(path, only), only["death"])
    assert data.study == ("A", "B")


def test_several_outcomes_need_an_outcome_column(tmp_path):
    path = write(
        tmp_path, "A,1,10,2,10\n", "study,events_treat,total_treat,events_ctrl,total_ctrl\n"
    )
    with pytest.raises(InputError, match="column 'outcome': column missing"):
        load_extraction(path, OUTCOMES)


def test_subgroups_must_cover_every_row_of_an_outcome(tmp_path):
    found, _, _ = problems(
        tmp_path,
        "a,A,2001,death,3,20,6,21,,,,,,,,,grp1,\n"
        "b,B,2002,death,2,20,3,21,,,,,,,,,,\n"
        "a,A,2001,pain,,,,,5,1,10,6,1,10,,,,\n",
    )
    assert found == [(3, "subgroup", "empty, but other rows of outcome 'death' have a subgroup")]


def test_row_numbers_count_blank_lines_as_a_spreadsheet_does(tmp_path):
    body = (
        "a,A 2001,2001,death,3,20,6,21,,,,,,,,,,\n"
        "\n"
        ",,,,,,,,,,,,,,,,,\n"
        "b,B 2002,2002,death,30,20,6,21,,,,,,,,,,\n"
    )
    found, _, _ = problems(tmp_path, body)
    assert found == [(5, "events_treat", "30 events exceed the total of 20")]


def test_absurd_numbers_are_validation_errors(tmp_path):
    body = (
        "a,A 2001,2001,death,3,1e308,6,21,,,,,,,,,,\n"
        "b,B 2002,2002,pain,,,,,1e300,2,10,3,inf,10,,,,\n"
    )
    found, _, _ = problems(tmp_path, body)
    assert found == [
        (2, "total_treat", "1e308 is implausibly large (more than 1,000,000,000)"),
        (3, "mean_treat", "1e300 is implausibly large (more than 1,000,000,000,000)"),
        (3, "sd_ctrl", "'inf' is not a number"),
    ]


def test_encoding_errors_name_the_line_and_the_fix(tmp_path):
    path = tmp_path / "extraction.csv"
    path.write_bytes((HEADER + "a,M\xfcller 2001,2001,death,3,20,6,21\n").encode("cp1252"))
    with pytest.raises(InputError) as info:
        load_extraction(path, OUTCOMES)
    (problem,) = info.value.problems
    assert problem.row == 2 and "0xfc on line 2 is not UTF-8" in problem.message
    assert "CSV UTF-8" in problem.message
    path.write_bytes(HEADER.encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        load_extraction(path, OUTCOMES)


def test_semicolon_separated_files_are_recognised(tmp_path):
    header = HEADER.replace(",", ";")
    found, _, _ = problems(tmp_path, "a;A 2001;2001;death;3;20;6;21\n", header)
    assert found[0][0] == 1 and "separated by semicolons" in found[0][2]


def test_an_arm_without_numbers_is_one_problem_that_says_both_arms_are_needed(tmp_path):
    found, _, _ = problems(
        tmp_path,
        "a,A,2001,death,3,20,,,,,,,,,,,,\n"  # row 2: control arm empty
        "b,B,2002,pain,,,,,,,,5,1,10,,,,\n"  # row 3: experimental arm empty
        "c,C,2003,death,3,20,4,,,,,,,,,,,\n",  # row 4: one number missing
    )
    assert [(row, col) for row, col, _ in found] == [
        (2, "events_ctrl"),
        (3, "mean_treat"),
        (4, "total_ctrl"),
    ]
    assert found[0][2].startswith(
        "empty, as is every number of the control arm (events_ctrl, total_ctrl): "
        "a comparison needs both arms"
    )
    assert "experimental arm (mean_treat, sd_treat, n_treat)" in found[1][2]
    assert found[2][2] == "empty"
