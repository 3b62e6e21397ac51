"""ROBINS-I's signalling questions: the tool's 34, numbered as it numbers them, answers
validated against them, no algorithm proposing domain judgements, and the workspace form."""

from __future__ import annotations

import pytest

from livingmeta.risk_of_bias import OVERALL
from livingmeta.risk_of_bias.assessments import load_assessment
from livingmeta.risk_of_bias.model import ANSWERS
from livingmeta.risk_of_bias.robins_i import robins_i
from livingmeta.risk_of_bias.settings import settings_from_config
from livingmeta.validation import InputError
from tests.test_app_risk_of_bias import (
    FORM,
    ROBINS_I,
    ROBINS_LOW,
    client_with,
    repo,  # noqa: F401  (a fixture: the workspace's review)
    save_to,
)
from tests.test_risk_of_bias import ROSTER, write_rows

#: Question keys per domain, as the 2016 tool numbers them (34 in all).
KEYS = {
    "D1": ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8"],
    "D2": ["2.1", "2.2", "2.3", "2.4", "2.5"],
    "D3": ["3.1", "3.2", "3.3"],
    "D4": ["4.1", "4.2", "4.3", "4.4", "4.5", "4.6"],
    "D5": ["5.1", "5.2", "5.3", "5.4", "5.5"],
    "D6": ["6.1", "6.2", "6.3", "6.4"],
    "D7": ["7.1", "7.2", "7.3"],
}
CONFOUNDING = "Is there potential for confounding of the effect of intervention in this study?"


def row(domain: str, question: str = "", answer: str = "", **extra: str) -> dict[str, str]:
    return {"study_id": "s1", "outcome": "death", "domain": domain, "question": question,
            "answer": answer, **extra}  # fmt: skip


def load(tmp_path, rows):
    path = write_rows(tmp_path / "alice.csv", rows)
    return path, load_assessment(path, settings_from_config(ROBINS_I), roster=ROSTER)


def test_the_tools_34_questions_numbered_per_domain():
    tool = robins_i()
    assert {d.key: [q.key for q in d.questions] for d in tool.domains} == KEYS
    assert sum(len(d.questions) for d in tool.domains) == 34
    assert tool.domain("D1").question("1.1").text == CONFOUNDING
    assert tool.domain("D7").question("7.3").text == (
        "Is the reported effect estimate likely to be selected, on the basis of the results, "
        "from different subgroups?"
    )


@pytest.mark.parametrize(
    ("key", "condition"),
    [
        ("1.2", "If Y/PY to 1.1: "),
        ("1.5", "If Y/PY to 1.4: "),
        ("1.8", "If Y/PY to 1.7: "),
        ("2.5", "If Y/PY to 2.2 and 2.3, or N/PN to 2.4: "),
        ("4.6", "If N/PN to 4.3, 4.4 or 4.5: "),
        ("5.5", "If PN/N to 5.1, or Y/PY to 5.2 or 5.3: "),
    ],
)
def test_conditional_questions_keep_their_condition_and_allow_na(key, condition):
    question = robins_i().domain(f"D{key[0]}").question(key)
    assert question.text.startswith(condition)
    assert question.answers == ANSWERS


def test_answers_are_the_templates():
    tool = robins_i()
    assert tool.domain("D1").question("1.1").answers == ("Y", "PY", "PN", "N")  # no NI
    assert tool.domain("D1").question("1.4").answers == ANSWERS  # baseline branch: may be NA
    assert tool.domain("D4").question("4.3").answers == ANSWERS  # effect of assignment: NA
    assert tool.domain("D6").question("6.1").answers == ("Y", "PY", "PN", "N", "NI")


def test_an_unknown_question_names_file_row_and_column(tmp_path):
    rows = [row("D1", "1.1", "Y"), row("D1", "1.9", "Y")]
    with pytest.raises(InputError) as caught:
        load(tmp_path, rows)
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.column) == (
        str(tmp_path / "alice.csv"),
        3,
        "question",
    )
    assert "'1.9' is not a question of D1; one of: 1.1, 1.2," in problem.message


def test_an_answer_the_question_does_not_offer_is_an_error(tmp_path):
    with pytest.raises(InputError) as caught:
        load(tmp_path, [row("D1", "1.1", "NI"), row("D3", "3.1", "NA")])
    found = [(p.row, p.column) for p in caught.value.problems]
    assert found == [(2, "answer"), (3, "answer")]
    assert "'NI' is not one of Y, PY, PN, N" in caught.value.problems[0].message


def test_valid_answers_are_recorded_as_support_and_propose_nothing(tmp_path):
    judged = [row(f"D{i}", judgement="low") for i in range(1, 8)]
    answers = [row("D4", "4.3", "PY"), row("D1", "1.5", "na"), row("D1", "1.1", "Y")]
    _, assessment = load(tmp_path, [*answers, *judged[:-1], row("D7", judgement="moderate")])
    assert assessment.answers[("s1", "death", "D4")] == {"4.3": "PY"}
    assert assessment.answers[("s1", "death", "D1")] == {"1.5": "NA", "1.1": "Y"}
    levels = {j.domain: (j.level, j.proposed) for j in assessment.judgements}
    assert levels["D4"] == ("low", None)  # answers support the judgement, propose nothing
    assert levels[OVERALL] == ("moderate", "moderate")


def test_the_overall_rule_is_unchanged_and_no_domain_is_proposed():
    tool = robins_i()
    for domain in tool.domains:
        assert tool.propose(domain.key, {q.key: "Y" for q in domain.questions}) is None
    base = {f"D{i}": "low" for i in range(1, 8)}
    assert tool.propose_overall(base) == "low"
    assert tool.propose_overall(base | {"D6": "no_information", "D2": "moderate"}) == (
        "no_information"
    )
    assert tool.propose_overall(base | {"D4": "serious", "D6": "no_information"}) == "serious"
    assert tool.propose_overall(base | {"D4": "serious", "D7": "critical"}) == "critical"


@pytest.mark.usefixtures("repo")  # the review, written under tmp_path
def test_the_workspace_form_asks_the_questions_and_proposes_no_domain(tmp_path):
    client, token = client_with("alice", ROBINS_I)
    page = client.get(FORM).get_data(as_text=True)
    assert f'<label for="a-D1-1.1">1.1 {CONFOUNDING}</label>' in page
    assert page.count('<div class="question">') == 34
    assert "The tool&#39;s algorithm proposes" not in page.split('id="domain-overall"')[0]
    assert 'id="proposed-overall"' in page  # the overall judgement is still proposed
    typed = {"a|D1|1.1": "Y", "a|D4|4.3": "PY", **ROBINS_LOW}
    data = {"csrf_token": token, "study": "smith2021", "outcome": "death", **typed}
    fragment = client.post("/risk-of-bias/propose", data=data).get_data(as_text=True)
    assert fragment.strip() == '<span id="proposed-overall" hx-swap-oob="true">low</span>'
    saved = save_to(client, token, FORM, "smith2021", "death", **typed)
    assert saved.status_code == 302
    lines = (tmp_path / "reviews/demo/risk_of_bias/alice.csv").read_text().splitlines()
    assert lines[1].startswith("smith2021,death,D1,1.1,Y,,,,,")
    assert any(line.startswith("smith2021,death,D4,4.3,PY,,,,,") for line in lines)
