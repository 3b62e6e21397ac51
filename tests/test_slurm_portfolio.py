"""The checks of the Slurm portfolio test (tests/slurm/portfolio.py), without a cluster.

The run itself needs root and a Slurm cluster (`make test-slurm`); these tests make sure
its checks catch what they promise to catch: a job that did not go through sbatch, a
network rule sent to a compute node, and outputs that differ from the local run.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import yaml

from livingmeta.config import REPO_ROOT
from tests.slurm import portfolio

RUN_LOG = """\
localrule search_review:
    wildcards: review=rescue_stenting
localrule all:
Job 3f2a-uuid has been submitted with SLURM jobid 41 (log: logs/slurm/group_prepare/41.log).
Job 3f2a-uuid has been submitted with SLURM jobid 44 (log: logs/slurm/group_prepare/44.log).
Job 12 has been submitted with SLURM jobid 42 (log: logs/slurm/rule_build_site/42.log).
"""


def records(*jobs: portfolio.SlurmJob):
    return lambda submitted: {job.job_id: job for job in jobs if job.job_id in submitted}


def job(job_id: str, state: str, comment: str, snakemake_job: str) -> portfolio.SlurmJob:
    return portfolio.SlurmJob(job_id, state, comment, snakemake_job)


def test_submissions_are_read_from_the_log_and_checked_against_slurm(monkeypatch):
    found = records(
        job("41", "FAILED", "rule_prepare", "3f2a-uuid"),
        job("44", "COMPLETED", "rule_prepare", "3f2a-uuid"),
        job("42", "COMPLETED", "rule_build_site", "12"),
    )
    monkeypatch.setattr(portfolio, "slurm_records", found)
    checked = portfolio.check_submissions(RUN_LOG)
    assert sorted(checked) == ["41", "42", "44"]
    killer = portfolio.Killer(Path("/w"), ended={"41": "process python script.py"})
    portfolio.check_resubmitted(killer, checked)


def test_a_job_slurm_does_not_know_fails_the_check(monkeypatch):
    monkeypatch.setattr(portfolio, "slurm_records", records(job("41", "COMPLETED", "x", "a")))
    with pytest.raises(portfolio.CheckFailed, match="no record"):
        portfolio.check_submissions(RUN_LOG)


def test_a_network_rule_on_a_compute_node_or_a_job_on_the_login_node_fails(monkeypatch):
    remote_search = RUN_LOG.replace("localrule search_review:", "rule search_review:")
    monkeypatch.setattr(portfolio, "slurm_records", records())
    with pytest.raises(portfolio.CheckFailed, match="login node"):
        portfolio.check_submissions(remote_search)
    pooled_on_login_node = RUN_LOG + "localrule pool_outcome:\n"
    with pytest.raises(portfolio.CheckFailed, match=r"on the login node: .*pool_outcome"):
        portfolio.check_submissions(pooled_on_login_node)
    with pytest.raises(portfolio.CheckFailed, match="no job was submitted"):
        portfolio.check_submissions("localrule search_review:\nlocalrule all:\n")


def test_a_killed_job_that_was_not_resubmitted_fails_the_check():
    alone = {"41": job("41", "FAILED", "rule_prepare", "3f2a-uuid")}
    with pytest.raises(portfolio.CheckFailed, match="not resubmitted"):
        portfolio.check_resubmitted(
            portfolio.Killer(Path("/w"), ended={"41": "process python"}), alone
        )
    with pytest.raises(portfolio.CheckFailed, match="no running Slurm job"):
        portfolio.check_resubmitted(portfolio.Killer(Path("/w")), alone)


class FakeCluster:
    """``squeue`` and ``scontrol update`` of one node: DOWN ends its running jobs as
    NODE_FAIL, as slurmctld does."""

    def __init__(self, running: list[tuple[str, str, str]]):
        self.running = running  # (job, node, working folder)
        self.node_failed: list[tuple[str, str]] = []
        self.updates: list[tuple[str, ...]] = []

    def slurm(self, *args: str) -> str:
        if "--states=RUNNING" in args:
            return "".join(f"{job}|{node}|{workdir}\n" for job, node, workdir in self.running)
        if "--states=NODE_FAIL" in args:
            return "".join(f"{job}|{workdir}\n" for job, workdir in self.node_failed)
        if "--states=all" in args:
            asked = next(a for a in args if a.startswith("--jobs=")).split("=")[1].split(",")
            states = {job: "RUNNING" for job, _, _ in self.running}
            states |= {job: "NODE_FAIL" for job, _ in self.node_failed}
            return "".join(f"{states[job]}\n" for job in asked if job in states)
        raise AssertionError(f"unexpected Slurm command {args}")

    def scontrol_update(self, node: str, *settings: str) -> str:
        self.updates.append((node, *settings))
        if "State=DOWN" in settings:
            self.node_failed += [(j, w) for j, n, w in self.running if n == node]
            self.running = [row for row in self.running if row[1] != node]
        return ""


@pytest.fixture
def cluster(monkeypatch):
    def install(running: list[tuple[str, str, str]]) -> FakeCluster:
        fake = FakeCluster(running)
        monkeypatch.setattr(portfolio, "slurm", fake.slurm)
        monkeypatch.setattr(portfolio, "scontrol_update", fake.scontrol_update)
        return fake

    return install


def test_a_node_failure_ends_the_runs_jobs_on_the_node_and_resumes_it(cluster, tmp_path):
    fake = cluster([("7", "n1", str(tmp_path)), ("8", "n1", str(tmp_path)), ("9", "n2", "/x")])
    failer = portfolio.NodeFailer(tmp_path, down_seconds=0)
    failer.run(threading.Event())
    assert failer.ended == {"7": "node n1 set DOWN", "8": "node n1 set DOWN"}
    assert [update[1] for update in fake.updates] == ["State=DOWN", "State=RESUME"]
    assert {update[0] for update in fake.updates} == {"n1"}


def test_a_disruption_returns_only_once_slurm_has_ended_the_jobs_it_struck(cluster, tmp_path):
    """The next disruption must not catch a killed job still running (it would end
    NODE_FAIL instead of FAILED)."""
    fake = cluster([("7", "n1", str(tmp_path))])
    killer = portfolio.Killer(tmp_path, ended={"7": "process python"})
    assert not killer.settled()
    fake.running, fake.node_failed = [], [("7", str(tmp_path))]
    assert killer.settled()
    assert not portfolio.Killer(tmp_path, ended={"7": "", "12": ""}).settled()


def test_a_node_that_runs_other_work_is_never_set_down(cluster, tmp_path):
    fake = cluster([("7", "n1", str(tmp_path)), ("5", "n1", "/home/someone/else")])
    failer = portfolio.NodeFailer(tmp_path)
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    failer.run(stop)
    assert fake.updates == [] and failer.ended == {}
    assert "Slurm jobs ['5'] of other work" in failer.refused
    with pytest.raises(portfolio.CheckFailed, match="NodeFailer ended no job: node n1"):
        portfolio.check_resubmitted(failer, {})


def test_the_node_is_resumed_when_watching_it_fails(cluster, tmp_path, monkeypatch):
    fake = cluster([("7", "n1", str(tmp_path))])

    def broken(self):
        raise OSError("squeue vanished")

    monkeypatch.setattr(portfolio.NodeFailer, "_node_failed_jobs", broken)
    with pytest.raises(OSError):
        portfolio.NodeFailer(tmp_path).run(threading.Event())
    assert fake.updates[-1] == ("n1", "State=RESUME")


def test_a_node_failed_job_must_be_node_fail_and_completed_by_a_later_submission():
    failer = portfolio.NodeFailer(Path("/w"), ended={"41": "node n1 set DOWN"})
    resubmitted = {
        "41": job("41", "NODE_FAIL", "rule_prepare", "3f2a-uuid"),
        "44": job("44", "COMPLETED", "rule_prepare", "3f2a-uuid"),
    }
    portfolio.check_resubmitted(failer, resubmitted)
    with pytest.raises(portfolio.CheckFailed, match="is not NODE_FAIL"):
        portfolio.check_resubmitted(failer, {**resubmitted, "41": job("41", "FAILED", "", "")})
    earlier = {"39": job("39", "COMPLETED", "rule_prepare", "3f2a-uuid"), "41": resubmitted["41"]}
    with pytest.raises(portfolio.CheckFailed, match="not resubmitted"):
        portfolio.check_resubmitted(failer, earlier)


def test_outputs_are_compared_byte_for_byte_except_the_run_time(tmp_path: Path):
    local, slurm = tmp_path / "local", tmp_path / "slurm"
    for root, stamp in ((local, "2026-12-02T051523Z"), (slurm, "2026-12-02T052000Z")):
        runs = root / "results" / "r" / "report" / "runs"
        runs.mkdir(parents=True)
        (runs / f"{stamp}.html").write_text(f"<dd>{stamp}</dd> started 2026-12-02T05:15:23.79Z")
        (root / "results" / "r" / "pooled.json").write_text('{"estimate": 0.385331}')
        (root / "logs").mkdir()
        (root / "logs" / f"{stamp}.log").write_text(stamp)
    portfolio.compare(portfolio.outputs(local), portfolio.outputs(slurm))
    (slurm / "results" / "r" / "pooled.json").write_text('{"estimate": 0.385332}')
    with pytest.raises(
        portfolio.CheckFailed, match=re.escape("different content ['results/r/pooled.json']")
    ):
        portfolio.compare(portfolio.outputs(local), portfolio.outputs(slurm))
    (slurm / "results" / "r" / "extra.csv").write_text("")
    with pytest.raises(
        portfolio.CheckFailed, match=re.escape("only Slurm ['results/r/extra.csv']")
    ):
        portfolio.compare(portfolio.outputs(local), portfolio.outputs(slurm))


def test_every_cluster_rule_is_grouped_and_network_rules_are_not():
    """A rule left out of the profile's groups would be one Slurm job per review (and
    outcome); a group name the rules no longer have is a stale entry."""
    profile = yaml.safe_load((REPO_ROOT / "workflow/profiles/slurm/config.yaml").read_text())
    rules_text = "\n".join(p.read_text() for p in (REPO_ROOT / "workflow/rules").glob("*.smk"))
    rules = set(re.findall(r"^(?:rule|checkpoint) (\w+):", rules_text, re.MULTILINE))
    grouped = set(profile["groups"])
    assert "search_review" in rules and "search_review" not in grouped
    assert sorted(rules - grouped - {"search_review"}) == [], "rules missing from groups"
    assert sorted(grouped - rules) == [], "groups name rules that do not exist"
    assert set(profile["group-components"]) == set(profile["groups"].values())
    # A rule defined per review (named after it) cannot be listed in the profile: it
    # names one of the profile's groups itself.
    per_review = re.findall(r"^( +)rule:\n((?:\1 .*\n|\n)+)", rules_text, re.MULTILINE)
    assert per_review, "the per-review rules were not found"
    for _, body in per_review:
        group = re.search(r'^ +group:\n +"(\w+)"', body, re.MULTILINE)
        assert group and group.group(1) in profile["group-components"], body
    assert profile["slurm-status-command"] == "squeue"
