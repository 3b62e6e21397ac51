"""The review workspace in real headless Chromium: two reviewers, each with their own
server on 127.0.0.1, screen with the keyboard, settle a conflict, extract, approve and
assess risk of bias; the files on disk are what a careful hand-edit would have made.

Skipped without Chromium, except in CI (see ``browser`` in tests/test_site.py).
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from livingmeta.app import create_app
from livingmeta.app.workspace import open_workspace
from livingmeta.risk_of_bias.consensus import load_folder
from livingmeta.risk_of_bias.settings import settings_from_config
from tests.app_fixtures import CHARACTERISTICS_FIELDS as FIELDS
from tests.app_fixtures import CHARACTERISTICS_HEADER as HEADER
from tests.app_fixtures import EXTRACTION_HEADER, make_repo
from tests.test_site import browser  # noqa: F401  (the shared headless Chromium fixture)

ROB2 = {"tools": [{"tool": "rob2", "outcomes": ["death"]}]}
WAIT = 30  # seconds at most for a page or fragment; a loaded CI machine is slow


@pytest.fixture
def servers(tmp_path, monkeypatch):
    """Alice's and Bob's workspaces on the same review, each served on a free port."""
    monkeypatch.chdir(tmp_path)
    make_repo(tmp_path)
    yield from serve(tmp_path)


@pytest.fixture
def characteristics_servers(tmp_path, monkeypatch):
    """As ``servers``, on a review that declares characteristics (a choice, a per-arm mean)."""
    monkeypatch.chdir(tmp_path)
    config = make_repo(tmp_path) / "config/config.yaml"
    config.write_text(config.read_text().replace("    outcomes:\n", FIELDS + "    outcomes:\n"))
    yield from serve(tmp_path)


def serve(tmp_path):
    """Start Alice's and Bob's servers; yield (root, urls), then stop them."""
    from werkzeug.serving import make_server

    started, urls = [], {}
    for name in ("alice", "bob"):
        ws = open_workspace(
            "config/config.yaml", "demo", name, roster=("alice", "bob"), risk_of_bias=ROB2
        )
        server = make_server("127.0.0.1", 0, create_app(ws), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        urls[name] = f"http://127.0.0.1:{server.server_port}"
    yield tmp_path, urls
    for server in started:
        server.shutdown()
        server.server_close()


def wait_for(driver, script: str, *args):
    """Wait until ``script`` returns something truthy, and return it."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(lambda d: d.execute_script(script, *args))


def press(driver, *keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    for key in keys:
        ActionChains(driver).send_keys(key).perform()


def shown_record(driver, record_id: str) -> None:
    wait_for(
        driver,
        "const r = document.getElementById('record');"
        "return document.readyState === 'complete' && r && r.dataset.record === arguments[0];",
        record_id,
    )


def screen_by_keys(driver, url: str, steps) -> None:
    """Open the screening page; press each step's keys once its record is shown."""
    driver.get(f"{url}/screening/")
    for record_id, keys in steps:
        shown_record(driver, record_id)
        press(driver, *keys)


def submit(driver, css: str) -> None:
    """Click a button that sends a form and wait for the page that answers it."""
    click_through(driver, driver.find_element("css selector", css))


def click_through(driver, element) -> None:
    """Click ``element`` (a button or link that loads a page) and wait for the new page.

    The old page is marked in its window object, which the new page replaces. Asking
    whether an element of the old page is stale instead races with the navigation: Chrome
    may answer with an inspector error rather than "stale element" while the page unloads
    (and the old page's ``readyState`` is 'complete' too).
    """
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.livingmetaOldPage = true;")
    element.click()
    loaded = "return !window.livingmetaOldPage && document.readyState === 'complete';"
    # The inspector's errors while the page unloads have no narrower type; a browser that
    # really failed still ends the wait, as a timeout.
    wait = WebDriverWait(driver, WAIT, ignored_exceptions=(WebDriverException,))
    wait.until(lambda d: d.execute_script(loaded))


def fill(driver, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = driver.find_element("name", name)
        field.clear()
        field.send_keys(value)


def choose(driver, values: dict[str, str]) -> None:
    from selenium.webdriver.support.ui import Select

    for name, value in values.items():
        Select(driver.find_element("name", name)).select_by_value(value)


def console_errors(driver) -> list[str]:
    """Console errors other than the refused saves' own status codes (409, 422)."""
    logged = driver.get_log("browser")
    return [e["message"] for e in logged if e["level"] == "SEVERE" and "status of 4" not in e["message"]]  # fmt: skip


def shows(driver, css: str, expected: str) -> bool:
    """Wait until an element matching ``css`` contains ``expected`` (white space folded).

    Live checks answer after a delay, and an earlier answer may be on the page meanwhile:
    reading the text once would race with it.
    """
    from selenium.common.exceptions import TimeoutException

    script = (
        "return [...document.querySelectorAll(arguments[0])]"
        ".map(e => e.textContent.split(/\\s+/).join(' ').trim())"
    )
    try:
        wait_for(driver, script + ".some(t => t.includes(arguments[1]))", css, expected)
    except TimeoutException:
        shown = driver.execute_script(script, css)
        raise AssertionError(f"{css} never showed {expected!r}; it shows {shown}") from None
    return True


@pytest.mark.browser
def test_two_reviewers_take_a_review_from_screening_to_consensus(browser, servers):  # noqa: F811
    root, urls = servers
    folder = root / "reviews/demo"
    # Alice screens three records with the keyboard and undoes her last decision.
    screen_by_keys(
        browser,
        urls["alice"],
        [("pubmed:1", "i"), ("pubmed:2", "e2"), ("pubmed:3", "m")],
    )
    wait_for(browser, "return document.getElementById('done')")
    press(browser, "u")
    shown_record(browser, "pubmed:3")
    wait_for(browser, "return document.getElementById('include')")
    press(browser, "i")
    wait_for(browser, "return document.getElementById('done')")
    choose(browser, {"view": "mine"})  # the filter applies as soon as it is chosen
    assert len(wait_for(browser, "return document.querySelectorAll('table.mine tbody tr')")) == 3
    # Bob disagrees on the first record: a conflict he settles with a consensus.
    screen_by_keys(
        browser, urls["bob"], [("pubmed:1", "e1"), ("pubmed:2", "e2"), ("pubmed:3", "i")]
    )
    wait_for(browser, "return document.getElementById('done')")
    browser.get(f"{urls['bob']}/conflicts/")
    assert shows(browser, ".conflict .side", "alice: include")
    submit(browser, ".conflict button[value=include]")
    wait_for(browser, "return document.getElementById('no-conflicts')")
    today = dt.date.today().isoformat()
    assert (folder / "screening/decisions.csv").read_text() == (
        "record_id,stage,reviewer,decision,reason,date,role,note\n"
        f"pubmed:1,title_abstract,alice,include,,{today},independent,\n"
        f"pubmed:2,title_abstract,alice,exclude,wrong design,{today},independent,\n"
        f"pubmed:3,title_abstract,alice,maybe,,{today},independent,\n"
        f"pubmed:3,title_abstract,alice,withdraw,,{today},independent,\n"
        f"pubmed:3,title_abstract,alice,include,,{today},independent,\n"
        f"pubmed:1,title_abstract,bob,exclude,wrong population,{today},independent,\n"
        f"pubmed:2,title_abstract,bob,exclude,wrong design,{today},independent,\n"
        f"pubmed:3,title_abstract,bob,include,,{today},independent,\n"
        f"pubmed:1,title_abstract,bob,include,,{today},consensus,\n"
    )

    # Alice extracts: an invalid value is flagged live and refused; the valid one is saved.
    browser.get(f"{urls['alice']}/extraction/?study=smith2021&outcome=death")
    fill(browser, {"events_treat": "40", "total_treat": "30", "events_ctrl": "9"})
    fill(browser, {"total_ctrl": "31", "source": "Table 2"})
    assert shows(browser, "#problems li", "40 events exceed the total of 30")
    submit(browser, "#save")
    assert shows(browser, "#problems li", "40 events exceed the total of 30")
    assert (folder / "extraction.csv").read_text() == EXTRACTION_HEADER
    fill(browser, {"events_treat": "4"})
    wait_for(browser, "return document.querySelector('p.ok#problems')")
    submit(browser, "#save")
    submit(browser, "#approve")
    assert shows(browser, "#approved", "Approved by alice")
    assert (folder / "extraction.csv").read_text() == EXTRACTION_HEADER + (
        f"smith2021,Smith 2021,2021,death,4,30,9,31,,,,,,,,Table 2,alice,,alice,{today},\n"
    )

    # Risk of bias: two assessors disagree on one domain; the consensus settles it.
    low = {f"j|D{i}": "low" for i in range(1, 6)}
    for name, judgements in (("alice", low), ("bob", {**low, "j|D3": "high"})):
        browser.get(f"{urls[name]}/risk-of-bias/?study=smith2021&outcome=death")
        choose(browser, judgements)
        fill(browser, {"s|D3": f"{name}: attrition 2%"})
        submit(browser, "#save-rob")
        assert browser.find_element("id", "s-D3").get_attribute("value") == f"{name}: attrition 2%"
    browser.get(f"{urls['alice']}/risk-of-bias/")
    assert shows(browser, ".disagreement .side", "alice: low")
    assert shows(browser, ".disagreement .side", "bob: high")
    choose(browser, {"judgement": "low"})
    fill(browser, {"support": "attrition 2% in both arms"})
    submit(browser, ".disagreement button")
    wait_for(browser, "return document.getElementById('no-disagreements')")
    status = load_folder(folder / "risk_of_bias", settings_from_config(ROB2))
    assert status.overall("smith2021", "death") == "low"
    assert console_errors(browser) == []
    assert (folder / "risk_of_bias/consensus.csv").read_text() == (
        "study_id,outcome,domain,question,answer,judgement,override_reason,support,page,date,"
        "note,agreed_by\n"
        f"smith2021,death,D3,,,low,,attrition 2% in both arms,,{today},,alice; bob\n"
    )


@pytest.mark.browser
def test_a_concurrent_hand_edit_is_detected_in_the_browser(browser, servers):  # noqa: F811
    root, urls = servers
    path = root / "reviews/demo/extraction.csv"
    browser.get(f"{urls['alice']}/extraction/?study=wang2023&outcome=death")
    fill(browser, {"events_treat": "3", "total_treat": "20", "events_ctrl": "5"})
    fill(browser, {"total_ctrl": "21", "source": "Fig. 2"})
    hand = EXTRACTION_HEADER + "smith2021,Smith 2021,2021,death,4,30,9,31,,,,,,,,T2,bob,,,,\n"
    path.write_text(hand)  # bob edits the file in a spreadsheet meanwhile
    submit(browser, "#save")
    assert shows(browser, ".stale h2", "changed since this page was shown")
    assert shows(browser, ".diff", "+smith2021,Smith 2021,2021,death,4,30,9,31")
    assert path.read_text() == hand
    assert browser.find_element("name", "total_ctrl").get_attribute("value") == "21"
    submit(browser, "#save")  # the refused page holds the new version: saving now works
    assert not browser.find_elements("css selector", ".stale")
    assert path.read_text() == hand + (
        "wang2023,Wang 2023,2023,death,3,20,5,21,,,,,,,,Fig. 2,alice,,,,\n"
    )


@pytest.mark.browser
def test_not_reported_outcome_and_double_extraction_in_the_browser(browser, servers):  # noqa: F811
    root, urls = servers
    folder = root / "reviews/demo"
    # An outcome the study did not report: the workflow asks where it was looked for.
    browser.get(f"{urls['alice']}/extraction/?study=wang2023&outcome=nihss")
    choose(browser, {"reported": "no"})
    fill(browser, {"notes": "checked"})  # typing triggers the live check
    assert shows(browser, "#problem-source", "say where the outcome was looked for")
    fill(browser, {"source": "Tables 1-3"})
    wait_for(browser, "return document.querySelector('p.ok#problems')")
    submit(browser, "#save")
    assert shows(browser, "table.to-extract", "not reported, not approved")
    # Two extractors' drafts, compared side by side; the reconciled row names both.
    numbers = {"events_treat": "4", "total_treat": "30", "events_ctrl": "9", "total_ctrl": "31"}
    for name, events in (("alice", "4"), ("bob", "5")):
        browser.get(f"{urls[name]}/extraction/?study=smith2021&outcome=death")
        fill(browser, {**numbers, "events_treat": events, "source": "Table 2"})
        submit(browser, "#save-draft")
    browser.get(f"{urls['alice']}/extraction/?study=smith2021&outcome=death")
    cells = (
        "return [...document.querySelectorAll('#compare tr.differ > *')].map(c => c.textContent)"
    )
    assert wait_for(browser, cells) == ["events_treat", "4", "5"]  # only the differing value
    click_through(browser, browser.find_element("link text", "start from this draft"))  # alice's
    assert browser.find_element("name", "events_treat").get_attribute("value") == "4"
    submit(browser, "#save")
    assert console_errors(browser) == []
    assert (folder / "extraction.csv").read_text() == EXTRACTION_HEADER.replace(
        "notes\n", "notes,reported,reconciled_by\n"
    ) + (
        "wang2023,Wang 2023,2023,nihss,,,,,,,,,,,,Tables 1-3,alice,,,,checked,no,\n"
        "smith2021,Smith 2021,2021,death,4,30,9,31,,,,,,,,Table 2,alice,bob,,,,,alice\n"
    )  # each column a row added (`reported`, then `reconciled_by`) is added to every row
    assert "events_treat" in (folder / "extraction/bob.csv").read_text()


@pytest.mark.browser
def test_characteristics_form_invalid_then_valid_then_approved(browser, characteristics_servers):  # noqa: F811
    from selenium.webdriver.support.ui import Select

    root, urls = characteristics_servers
    path = root / "reviews/demo/characteristics.csv"
    browser.get(f"{urls['alice']}/characteristics/?study=smith2021")
    fill(browser, {"age-treat-value": "70", "age-treat-spread": "x"})
    fill(browser, {"age-treat-source": "Table 1"})
    assert shows(browser, "#problem-age-treat-spread", "'x' is not a number")
    assert shows(browser, "#problems li", "row 2, column 'spread'")
    submit(browser, "#save-characteristics")
    assert shows(browser, "#problem-age-treat-spread", "'x' is not a number")
    assert not path.exists()
    fill(browser, {"age-treat-spread": "16.9", "design--source": "p. 2"})
    Select(browser.find_element("name", "design--text")).select_by_visible_text("RCT")
    choose(browser, {"age-ctrl-reported": "no"})
    fill(browser, {"age-ctrl-source": "Table 1: not given for controls"})
    wait_for(browser, "return document.querySelector('p.ok#problems')")
    submit(browser, "#save-characteristics")
    assert shows(browser, "#line-age-treat", "by alice, not approved")
    browser.get(f"{urls['bob']}/characteristics/?study=smith2021")
    submit(browser, "#approve-characteristics")
    assert shows(browser, "#line-design-", "approved by bob")
    assert console_errors(browser) == []
    today = dt.date.today().isoformat()
    assert path.read_text() == HEADER + (
        f"smith2021,design,,,,,,,,,RCT,,,p. 2,alice,bob,{today},\n"
        f"smith2021,age,treat,,70,16.9,,,,,,,,Table 1,alice,bob,{today},\n"
        f"smith2021,age,ctrl,,,,,,,,,no,,Table 1: not given for controls,alice,bob,{today},\n"
    )  # what the hand-edit of the same three lines would be


@pytest.mark.browser
def test_characteristics_kind_redraws_the_line_and_saves_footnote_and_notes(
    browser,  # noqa: F811
    characteristics_servers,
):
    root, urls = characteristics_servers
    path = root / "reviews/demo/characteristics.csv"
    browser.get(f"{urls['alice']}/characteristics/?study=smith2021")
    choose(browser, {"age-treat-kind": "n_of_N", "design--text": "RCT"})
    wait_for(browser, "return document.querySelector('[name=\"age-treat-total\"]')")
    assert not browser.find_elements("name", "age-treat-spread")
    fill(browser, {"age-treat-value": "12", "age-treat-total": "30", "age-treat-source": "T1"})
    fill(browser, {"age-treat-footnote": "Women", "age-treat-notes": "checked twice"})
    fill(browser, {"design--source": "p. 2"})
    wait_for(browser, "return document.querySelector('p.ok#problems')")
    submit(browser, "#save-characteristics")
    assert shows(browser, "#line-age-treat", "by alice, not approved")
    assert console_errors(browser) == []
    assert path.read_text() == HEADER + (
        "smith2021,design,,,,,,,,,RCT,,,p. 2,alice,,,\n"
        "smith2021,age,treat,n_of_N,12,,,,30,,,,Women,T1,alice,,,checked twice\n"
    )


@pytest.mark.browser
def test_duplicates_decided_side_by_side(browser, servers):  # noqa: F811
    from livingmeta.retrieval.registry import Registry
    from tests.test_app_duplicates import FIRST, HEADER, records

    root, urls = servers
    folder = root / "reviews/demo/retrieval/registry"
    registry = Registry()
    registry.upsert(records(), "run1")
    registry.deduplicate()
    registry.save(folder)
    browser.get(f"{urls['bob']}/duplicates/")
    assert shows(browser, "#pair-3", "Stenting <script>alert(1)</script> trial")
    submit(browser, "#different-3")
    assert shows(browser, "#decided", "embase:e2 pubmed:2 different bob")
    assert len(browser.find_elements("css selector", "section.pair")) == 1
    assert console_errors(browser) == []
    today = dt.date.today().isoformat()
    assert (folder / "doubtful.csv").read_text() == (
        HEADER.replace("decision\n", "decision,decided_by,decided_on\n")
        + FIRST
        + f"embase:e2,pubmed:2,fuzzy_title_author_differs,1.0000,different,bob,{today}\n"
    )
    decisions = {(p.record_a, p.decision) for p in Registry.load(folder).doubtful}
    assert decisions == {("embase:e1", ""), ("embase:e2", "different")}
