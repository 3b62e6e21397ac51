"""The workflow's shape: rule files, step modules and glue use the same names, every
rule's glue (its ``run:`` block or its script) calls the step named like the rule, and
the glue stays glue; steps that draw never run in Snakemake's own process."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap

import yaml

from livingmeta.config import REPO_ROOT

RULES = REPO_ROOT / "workflow" / "rules"
SCRIPTS = REPO_ROOT / "scripts"
STEPS = REPO_ROOT / "livingmeta" / "workflow"
CORE_MODULES = ("search", "screening", "extraction", "pool", "plot", "summary", "report", "site")
MAX_GLUE_STATEMENTS = 7
GLUE_STATEMENTS = (ast.Import, ast.ImportFrom, ast.Assign, ast.Expr)


#: A rule defined once per review in a loop (``rule:`` with ``name: f"<rule>_{review_id}"``):
#: its name without the review id is the step's.
PER_REVIEW_RULE = re.compile(r'^ +rule:\n +name:\n +f"(\w+?)_\{review_id\}"', re.M)


def rules_by_file() -> dict[str, list[str]]:
    return {
        path.stem: re.findall(r"^rule (\w+):", text, flags=re.M) + PER_REVIEW_RULE.findall(text)
        for path in sorted(RULES.glob("*.smk"))
        if path.stem != "common"
        for text in [path.read_text()]
    }


def test_one_rule_file_per_step_module():
    modules = sorted(p.stem for p in STEPS.glob("*.py") if p.stem != "__init__")
    assert sorted(rules_by_file()) == modules
    assert set(CORE_MODULES) <= set(modules)


RUNNERS = ("run_in_snakemake", "run_forked")


def glue(module: str, rule: str) -> tuple[str, str]:
    """How a rule calls its step: ``(runner, run block)`` for a step run from a ``run:``
    block (in Snakemake's own process, or forked from its drawing server),
    ``("run_rule", glue script)`` for one run in a process of its own."""
    block = re.split(r"^ +run:\n", rule_text(module, rule), flags=re.M)[1:]
    if block:
        runners = [r for r in RUNNERS if f"{r}(" in block[0]]
        assert len(runners) == 1, (rule, runners)
        return runners[0], block[0]
    return "run_rule", (SCRIPTS / f"{rule}.py").read_text()


def imported_names(source: str) -> set[tuple[str | None, str]]:
    tree = ast.parse(textwrap.dedent(source))
    return {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_every_rule_has_a_step_function_and_glue_that_calls_it():
    for module_name, rules in rules_by_file().items():
        module = importlib.import_module(f"livingmeta.workflow.{module_name}")
        for rule in rules:
            assert callable(getattr(module, rule, None)), f"{module_name}.{rule} missing"
            runner, source = glue(module_name, rule)
            assert (f"livingmeta.workflow.{module_name}", rule) in imported_names(source), rule
            assert f"{runner}(" in source, rule


def test_glue_is_short_and_reads_snakemake_objects_only():
    """Glue imports, unpacks Snakemake's objects and calls the step: a few statements,
    none of them a branch, a loop or a file read (however many arguments the call takes)."""
    for module_name, rules in rules_by_file().items():
        for rule in rules:
            _, source = glue(module_name, rule)
            statements = ast.parse(textwrap.dedent(source)).body
            assert len(statements) <= MAX_GLUE_STATEMENTS, rule
            assert all(isinstance(s, GLUE_STATEMENTS) for s in statements), rule
            assert "open(" not in source and "Path(" not in source, rule


def test_steps_run_in_snakemakes_process_draw_nothing():
    """matplotlib's settings are global and its drawing takes the CPU for seconds: a step
    that draws runs in a process of its own (forked from the drawing server), never in
    Snakemake's."""
    runners: dict[str, list[tuple[str, str]]] = {}
    for module_name, rules in rules_by_file().items():
        for rule in rules:
            runners.setdefault(glue(module_name, rule)[0], []).append((module_name, rule))
    assert len(runners["run_in_snakemake"]) >= 10, runners
    for module_name, rule in runners["run_in_snakemake"]:
        assert not draws(module_name, rule), rule
    assert runners["run_forked"] and all(draws(*step) for step in runners["run_forked"])


def draws(module_name: str, rule: str) -> bool:
    """Whether a step's own code draws (a figure, a chart, a save of either)."""
    step = getattr(importlib.import_module(f"livingmeta.workflow.{module_name}"), rule)
    words = ("matplotlib", "livingmeta.plots", "save_figure", "_figure(", "_chart(", "_save(")
    return any(word in inspect.getsource(step) for word in words)


def test_jobs_run_as_threads_of_snakemake_by_default():
    """Without threads, Snakemake would start a whole Snakemake for every run: job."""
    profile = yaml.safe_load((REPO_ROOT / "profiles" / "default" / "config.yaml").read_text())
    assert profile == {"force-use-threads": True}


def rule_text(module: str, rule: str) -> str:
    """The text of one rule of ``workflow/rules/<module>.smk``: ``rule <rule>:``, or one
    defined per review (``name: f"<rule>_{review_id}"``), up to the next rule."""
    text = (RULES / f"{module}.smk").read_text()
    found = re.search(rf"^rule {rule}:\n(.*?)(?=^\S|\Z)", text, flags=re.M | re.S)
    per_review = rf'^( +)rule:\n +name:\n +f"{rule}_\{{review_id\}}"\n(.*?)(?=^(?!\1 ) *\S|\Z)'
    found = found or re.search(per_review, text, flags=re.M | re.S)
    assert found, f"rule {rule} not in {module}.smk"
    return found.group(found.lastindex)


def test_one_job_draws_every_plot_of_an_outcome_from_its_pooled_result():
    """A job costs Python start-up and the matplotlib and scipy imports, far more than a
    figure: the plots drawn from an outcome's pooled.json alone are one rule's outputs."""
    outputs = rule_text("plot", "plot_outcome").split("log:")[0]
    for kind in ("forest", "cumulative", "leave_one_out", "funnel"):
        assert f"{{{{outcome}}}}/{kind}.{{ext}}" in outputs, kind
    assert "funnel" not in "".join(rules_by_file()["plot"])


def test_rules_defined_per_review_are_found():
    """The rules written once per review (their outputs depend on its tools and
    outcomes) are seen by the tests above, not silently left out of them."""
    found = {rule for rules in rules_by_file().values() for rule in rules}
    assert {"plot_risk_of_bias", "report_run"} <= found


def test_per_review_rules_of_ids_that_share_a_prefix_and_hold_a_hyphen(tmp_path):
    """Review ``r`` and ``r-b`` (a prefix, and a hyphen) each get their own figure jobs,
    every figure from exactly one rule."""
    import shutil
    import subprocess
    import sys

    import yaml

    from tests.workflow_copy import copy_workflow

    root = copy_workflow(tmp_path)
    config_path = root / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    first = config["reviews"][0]
    second = {**first, "id": f"{first['id']}-b", "folder": f"{first['folder']}-b"}
    for spec in (first, second):
        spec["searches"] = []  # offline: no saved search goes to the internet
    config["reviews"].append(second)
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    shutil.copytree(root / first["folder"], root / second["folder"])
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--dry-run", "--quiet", "rules"],
        cwd=root, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for review in (first["id"], second["id"]):
        for rule in ("plot_risk_of_bias", "report_run"):
            assert re.search(rf"^{re.escape(rule)}_{re.escape(review)}\s+1$", proc.stdout, re.M), (
                f"{rule}_{review}",
                proc.stdout,
            )


def test_every_job_feeds_the_default_target(tmp_path):
    """Every job of a portfolio with every optional step (risk of bias, characteristics,
    sequential monitoring, a bubble plot) writes a file the default target asks for: a
    job that failed then runs again next time, although Snakemake records a failed job as
    if it had finished and would take the results downstream as up to date."""
    import subprocess
    import sys

    from tests.test_workflow_appraisal import EXTRACTION_COLUMNS, SYNTHETIC, write_csv
    from tests.workflow_copy import copy_workflow

    root = copy_workflow(tmp_path)
    write_csv(root / SYNTHETIC["folder"] / "extraction.csv", EXTRACTION_COLUMNS, [])
    config_path = root / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    death = {**SYNTHETIC["outcomes"][0], "analyses": {"covariates": ["year"]}}
    config["reviews"].append({**SYNTHETIC, "outcomes": [death, *SYNTHETIC["outcomes"][1:]]})
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--dag", "--forceall", "all"],
        cwd=root, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    labels = dict(re.findall(r'^\s*(\d+)\[label = "([^"\\]+)', proc.stdout, re.M))
    edges = set(re.findall(r"^\s*(\d+) -> (\d+)$", proc.stdout, re.M))
    target = next(node for node, label in labels.items() if label == "all")
    rules = set(labels.values())
    assert {"plot_bubble", "plot_sequential", "settle_risk_of_bias"} <= rules, rules
    assert {"plot_risk_of_bias_synthetic", "tabulate_characteristics"} <= rules, rules
    unasked = sorted(labels[n] for n in labels if n != target and (n, target) not in edges)
    assert not unasked, unasked
