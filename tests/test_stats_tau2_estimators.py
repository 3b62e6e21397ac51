"""The tau2 estimators ML, HE, HS, SJ, EB, HSk, DLIT, SJIT, PMM and MP (and DL, REML, PM
beside them) against R metafor 3.8-1 (``tests/reference/tau2_estimators.json``, written by
``tests/reference/make_tau2_estimators.R``; datasets and conventions in that script's
header).

Per dataset x measure x estimator: ``pool()``'s tau2, estimate, SE, CI, z, P, Q, metafor's
I2 and prediction interval; the same with HKSJ (``test = "knha"``); the Q-profile interval
of tau2, I2 and H2 (``confint``); a few fits at level 90. Then meta-regression, Egger's
mixed-effects test and trim-and-fill with each estimator, and the batch path on every
binary dataset at once. Tolerances as the project's: 1e-6 relative for the closed forms
(DL, HE, HS, SJ, HSk), 1e-4 for the iterative estimators (ML, EB, REML, PM, DLIT, SJIT, PMM,
MP). Where metafor refuses a fit (DLIT or SJIT not converging in 100 iterations, PM with no
root below tau2.max), livingmeta must refuse it too, with a message saying why.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from livingmeta.cli import main
from livingmeta.stats import BinaryData, ContinuousData, GenericData, NotEstimableError, escalc
from livingmeta.stats import pool as pool_
from livingmeta.stats.batch import pool_batch_binary
from livingmeta.stats.batch_regression import meta_regression_batch
from livingmeta.stats.bias import egger_rma_test
from livingmeta.stats.distributions import chi2_ppf
from livingmeta.stats.heterogeneity import generalised_q, tau2_pm, tau2_pmm
from livingmeta.stats.metareg import meta_regression
from livingmeta.stats.options import TAU2_METHODS
from livingmeta.stats.tau2_ci import tau2_confint
from livingmeta.stats.tau2_design import tau2_design
from livingmeta.stats.trim_and_fill import trimfill
from tests.conftest import REPO_ROOT, SHARED_DIR
from tests.stats_reference import ABS_TOL, ITERATIVE_REL_TOL, REL_TOL, covariates_frame

LOCAL_DIR = Path(__file__).parent / "reference"
REF = json.loads((LOCAL_DIR / "tau2_estimators.json").read_text())
FOLDERS = {
    "shared": SHARED_DIR / "reference",
    "local": LOCAL_DIR,
    "sweep": LOCAL_DIR / "metadat_sweep",
}
# Beside DL, REML and PM: metafor 3.8-1's other rma.uni estimators (bar GENQ and GENQM,
# which need user weights); ADDED are the second batch, MP is metafor's alias of PM.
ADDED = ("HSk", "DLIT", "SJIT", "PMM")
NEW_METHODS = ("ML", "HE", "HS", "SJ", "EB", *ADDED, "MP")
ITERATIVE = ("ML", "EB", "REML", "PM", "DLIT", "SJIT", "PMM", "MP")
NEVER_ZERO = ("SJ", "SJIT")  # positive whenever the effects differ at all
# metafor's refusal -> ours
REFUSALS = {
    "did not converge": "did not converge; try DL or PM",
    "tau2.max' too low": "no root below tau2",
}
FIT_FIELDS = ("tau2", "estimate", "se", "ci_low", "ci_high", "statistic", "p", "q")
RANDOM_FIELDS = ("i2_tau2", "pi_low", "pi_high")
KNHA_FIELDS = ("estimate", "se", "ci_low", "ci_high", "statistic", "p", "pi_low", "pi_high")
CI_FIELDS = ("tau2_ci_low", "tau2_ci_high", "i2_ci_low", "i2_ci_high", "h2_ci_low", "h2_ci_high")


def tolerance(method: str) -> float:
    """1e-4 for the iterative estimators, 1e-6 for the closed forms."""
    return ITERATIVE_REL_TOL if method in ITERATIVE else REL_TOL


def close(actual: float | None, expected: float | None, rel_tol: float) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return math.isclose(actual, expected, rel_tol=rel_tol, abs_tol=ABS_TOL)


def load(name: str) -> BinaryData | ContinuousData | GenericData:
    """A reference dataset from its CSV, as make_tau2_estimators.R read it."""
    entry = REF["datasets"][name]
    frame = pd.read_csv(FOLDERS[entry["folder"]] / entry["csv"])
    study = tuple(frame["study"])
    if "events_treat" in frame.columns:
        columns = ("events_treat", "total_treat", "events_ctrl", "total_ctrl")
        return BinaryData(study, *(frame[c] for c in columns))
    if "mean_treat" in frame.columns:
        columns = ("mean_treat", "sd_treat", "n_treat", "mean_ctrl", "sd_ctrl", "n_ctrl")
        return ContinuousData(study, *(frame[c] for c in columns))
    return GenericData(study, frame["yi"], frame["se"])


def refusal(metafor_error: str) -> str:
    """The message livingmeta must give where metafor stopped with ``metafor_error``."""
    return next(ours for theirs, ours in REFUSALS.items() if theirs in metafor_error)


def method_and_level(key: str) -> tuple[str, float]:
    """``ML`` -> (ML, 0.95); ``ML_level90`` -> (ML, 0.90)."""
    method, _, suffix = key.partition("_")
    return method, 0.90 if suffix == "level90" else 0.95


def pool(name: str, measure: str, key: str, **options: Any):
    method, level = method_and_level(key)
    return pool_(load(name), measure, "IV", "random", method, level=level, **options)


CASES = [
    pytest.param(name, measure, key, id=f"{name}-{measure}-{key}")
    for name, entry in REF["datasets"].items()
    for measure, fits in entry["results"].items()
    for key in fits
]


def expected(name: str, measure: str, key: str) -> dict[str, Any]:
    return REF["datasets"][name]["results"][measure][key]


FITTED = [case for case in CASES if "error" not in expected(*case.values)]


def test_reference_is_broad():
    """>= 6 datasets: binary OR and RR, continuous MD and SMD, generic; k = 2; tau2 = 0."""
    assert set(REF["methods"]) >= set(NEW_METHODS) and len(REF["datasets"]) >= 6
    measures = {m for e in REF["datasets"].values() for m in e["results"]}
    assert measures >= {"OR", "RR", "MD", "SMD", "GIV"}
    fits = {case.values: expected(*case.values)["z"] for case in FITTED}
    assert 2 in {fit["k"] for fit in fits.values()}
    for method in set(NEW_METHODS) - set(NEVER_ZERO):
        assert any(fit["tau2"] == 0 for (_, _, key), fit in fits.items() if key == method)
    assert any(key.endswith("_level90") for (_, _, key) in fits)
    refused = {case.values[2] for case in CASES if "error" in expected(*case.values)}
    assert refused >= {"DLIT", "SJIT", "PMM", "PM"}  # each kind of refusal is tested
    assert all("error" not in v["z"] for v in REF["metareg"]["fits"]["ablat"].values())


@pytest.mark.parametrize(("name", "measure", "key"), CASES)
def test_pooled_result_matches_metafor(name, measure, key):
    want = expected(name, measure, key)
    if "error" in want:  # metafor refuses (no convergence, no root): so must we
        with pytest.raises(ValueError, match=refusal(want["error"])):
            pool(name, measure, key)
        return
    result = pool(name, measure, key)
    tol = tolerance(method_and_level(key)[0])
    assert result.k == want["z"]["k"]
    for field in FIT_FIELDS + RANDOM_FIELDS:
        got = getattr(result, field)
        assert close(got, want["z"][field], tol), (field, got, want["z"][field])


@pytest.mark.parametrize(("name", "measure", "key"), FITTED)
def test_hksj_matches_metafor_knha(name, measure, key):
    want = expected(name, measure, key)["knha"]
    result = pool(name, measure, key, hksj=True)
    assert result.statistic_name == "t"
    tol = tolerance(method_and_level(key)[0])
    for field in KNHA_FIELDS:
        got = getattr(result, field)
        assert close(got, want[field], tol), (field, got, want[field])


@pytest.mark.parametrize(("name", "measure", "key"), FITTED)
def test_q_profile_interval_matches_metafor(name, measure, key):
    want = expected(name, measure, key)["confint"]
    ci = tau2_confint(pool(name, measure, key))
    tol = tolerance(method_and_level(key)[0])
    for field in CI_FIELDS:
        got = getattr(ci, field.replace("_ci", ""))
        assert close(got, want[field], tol), (field, got, want[field])


METAREG_CASES = [
    pytest.param(mods, method, test, id=f"{mods}-{method}-{test}")
    for mods, methods in REF["metareg"]["fits"].items()
    for method, tests in methods.items()
    for test in tests
]


@pytest.mark.parametrize(("mods", "method", "test"), METAREG_CASES)
def test_meta_regression_matches_metafor(mods, method, test):
    es = escalc("RR", load("bcg"))
    moderators = {mods: list(covariates_frame()[mods])}
    want, tol = REF["metareg"]["fits"][mods][method][test], tolerance(method)
    if "error" in want:
        with pytest.raises(NotEstimableError, match=refusal(want["error"])):
            meta_regression(es.yi, es.vi, moderators, method, test)
        return
    got = meta_regression(es.yi, es.vi, moderators, method, test).to_dict()
    for field in ("tau2", "qm", "qm_p", "qe", "qe_p", "i2", "h2", "r2"):
        assert close(got[field], want[field], tol), (field, got[field], want[field])
    for coef, ref in zip(got["coefficients"], want["coefficients"], strict=True):
        for field in ("estimate", "se", "statistic", "p", "ci_low", "ci_high"):
            assert close(coef[field], ref[field], tol), (coef["name"], field)


@pytest.mark.parametrize("method", REF["bias"]["fits"])
def test_egger_and_trimfill_match_metafor(method):
    es = escalc("RR", load("bcg"))
    want, tol = REF["bias"]["fits"][method], tolerance(method)
    egger = egger_rma_test(es.yi, es.vi, method)
    assert close(egger.statistic, want["egger_rma"]["statistic"], tol)
    assert close(egger.p, want["egger_rma"]["p"], tol)
    if "error" in want["trimfill"]:  # DLIT: the model without moderators has no estimate
        with pytest.raises(NotEstimableError, match=refusal(want["trimfill"]["error"])):
            trimfill(es.yi, es.vi, method)
        return
    filled = trimfill(es.yi, es.vi, method)
    assert (filled.k0, filled.side) == (want["trimfill"]["k0"], want["trimfill"]["side"])
    for field in ("estimate", "ci_low", "ci_high", "tau2"):
        assert close(getattr(filled, field), want["trimfill"][field], tol), field


def binary_arrays() -> tuple[list[tuple[str, str]], list[np.ndarray]]:
    """Every binary reference dataset and measure, padded with NaN into (N, k) arrays."""
    rows, cells = [], []
    for name, entry in REF["datasets"].items():
        data = load(name)
        if isinstance(data, BinaryData):
            for measure in entry["results"]:
                rows.append((name, measure))
                cells.append(
                    [data.events_treat, data.total_treat, data.events_ctrl, data.total_ctrl]
                )
    width = max(len(c[0]) for c in cells)
    padded = [np.full((len(cells), width), np.nan) for _ in range(4)]
    for i, arms in enumerate(cells):
        for array, values in zip(padded, arms, strict=True):
            array[i, : len(values)] = values
    return rows, padded


@pytest.mark.parametrize("method", NEW_METHODS)
@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_batch_path_matches_metafor(method, measure):
    rows, arrays = binary_arrays()
    batch = pool_batch_binary(*arrays, measure=measure, tau2_method=method)
    checked = 0
    for i, (name, row_measure) in enumerate(rows):
        if row_measure != measure:
            continue
        if "error" in expected(name, measure, method):  # no convergence: NaN, as REML's
            assert np.isnan(batch.tau2[i]) and np.isnan(batch.estimate[i]), name
            checked += 1
            continue
        want = expected(name, measure, method)["z"]
        for field in ("tau2", "estimate", "se", "ci_low", "ci_high", "p"):
            got = getattr(batch, field)[i]
            assert close(float(got), want[field], tolerance(method)), (name, field)
        checked += 1
    assert checked >= 3


def test_batch_meta_regression_refuses_the_new_estimators_clearly():
    with pytest.raises(ValueError, match="DL or REML in the batch path; got 'ML'"):
        meta_regression_batch([[0.1, 0.3, 0.2]], [[0.1, 0.1, 0.1]], np.ones((3, 1)), "ML")


@pytest.mark.parametrize("method", NEW_METHODS)
def test_single_study_has_no_heterogeneity(method):
    """metafor's k = 1 case: tau2 = 0 whatever the estimator (no iteration, no 0/0)."""
    data = BinaryData(("a",), [4], [50], [9], [48])
    assert pool_(data, "OR", "IV", "random", method).tau2 == 0.0


def test_eb_converges_to_the_paule_mandel_root_but_is_not_an_alias():
    fits = [
        (entry["results"][measure]["EB"]["z"]["tau2"], entry["results"][measure]["PM"])
        for entry in REF["datasets"].values()
        for measure in entry["results"]
    ]
    agree = [abs(eb - pm["z"]["tau2"]) for eb, pm in fits if "error" not in pm]
    assert max(agree) < 1e-4 and max(agree) > 1e-6  # same root, metafor's 1e-5 stopping rule
    assert any("error" in pm for _, pm in fits)  # curtis1998 MD: EB estimates, PM refuses
    assert pool("curtis1998", "MD", "EB").tau2 == pytest.approx(
        expected("curtis1998", "MD", "EB")["z"]["tau2"], rel=ITERATIVE_REL_TOL
    )


def test_ml_falls_back_to_zero_at_a_local_maximum_as_metafor():
    """gibson2002 MD: ML scoring stops at a local maximum, metafor's ll0 check sets 0."""
    assert expected("gibson2002", "MD", "ML")["z"]["tau2"] == 0
    assert pool("gibson2002", "MD", "ML").tau2 == 0.0


@pytest.mark.parametrize("method", ["ML", "EB", "DLIT", "SJIT"])
def test_non_convergence_is_reported_as_for_reml(method, monkeypatch):
    import livingmeta.stats.heterogeneity as heterogeneity
    import livingmeta.stats.tau2_design as design

    monkeypatch.setattr(heterogeneity, "REML_MAX_ITER", 1)
    monkeypatch.setattr(design, "REML_MAX_ITER", 1)
    with pytest.raises(NotEstimableError, match=f"the {method} estimate of tau2 did not converge"):
        pool("bcg", "RR", method)
    es = escalc("RR", load("bcg"))
    with pytest.raises(NotEstimableError, match=f"the {method} estimate of tau2 did not converge"):
        tau2_design(method, es.yi, es.vi, np.ones((len(es.yi), 1)))


@pytest.mark.parametrize("method", NEW_METHODS[:-1])  # MP, as PM, does not refuse
def test_design_needs_more_studies_than_coefficients(method):
    with pytest.raises(NotEstimableError, match="2 studies cannot estimate tau2"):
        tau2_design(method, np.array([0.1, 0.5]), np.array([0.1, 0.2]), np.eye(2))


def test_every_entry_point_accepts_the_same_estimators():
    """Python options, the config schema and the M-H rule name the same methods."""
    assert set(NEW_METHODS) <= set(TAU2_METHODS) and not {"GENQ", "GENQM"} & set(TAU2_METHODS)
    schema = yaml.safe_load((REPO_ROOT / "livingmeta/schemas/config.schema.yaml").read_text())
    enum = schema["$defs"]["outcome"]["properties"]["tau2_method"]["enum"]
    assert tuple(enum) == TAU2_METHODS
    data = load("bcg")
    with pytest.raises(ValueError, match="tau2_method ML needs method IV"):
        pool_(data, "OR", "MH", "random", "ML")
    with pytest.raises(ValueError, match="tau2_method must be one of DL, REML, PM, ML, HE"):
        pool_(data, "OR", "IV", "random", "GENQ")


def test_mp_is_metafors_alias_of_pm():
    """metafor runs MP through PM's code; so do we, to the last bit."""
    for entry in REF["datasets"].values():
        for fits in entry["results"].values():
            assert fits["MP"] == fits["PM"]
    mp, pm = pool("bcg", "RR", "MP").to_dict(), pool("bcg", "RR", "PM").to_dict()
    assert mp.pop("tau2_method") == "MP" and pm.pop("tau2_method") == "PM" and mp == pm


def test_pmm_solves_q_equal_to_the_median_of_chi2():
    """PMM's target is qchisq(0.5, k - 1): chi2_ppf gives R's to ~1e-15, and at the PMM
    estimate the generalised Q equals it (so PMM >= PM, Q falling in tau2)."""
    medians = REF["chi2_median"]
    assert np.allclose(chi2_ppf(0.5, medians["df"]), medians["value"], rtol=1e-12, atol=0)
    es = escalc("RR", load("bcg"))
    tau2 = float(tau2_pmm(es.yi, es.vi, tol=1e-12))
    assert float(generalised_q(es.yi, es.vi, tau2)) == pytest.approx(
        chi2_ppf(0.5, len(es.yi) - 1), rel=1e-9
    )
    assert tau2 > float(tau2_pm(es.yi, es.vi))


def test_sjit_converges_to_the_paule_mandel_root_and_dlit_below_it():
    """SJIT's fixed point is PM's root (to metafor's 1e-5 rule); metafor's DLIT keeps
    k - 1 where tr(PV) belongs, so it settles below PM wherever PM is positive."""
    for entry in REF["datasets"].values():
        for fits in entry["results"].values():
            pm = fits["PM"]["z"]["tau2"] if "error" not in fits["PM"] else None
            if pm and "error" not in fits["SJIT"]:
                assert fits["SJIT"]["z"]["tau2"] == pytest.approx(pm, abs=1e-4)
            if pm and "error" not in fits["DLIT"]:
                assert fits["DLIT"]["z"]["tau2"] < pm
    assert pool("normand1999", "MD", "DLIT").tau2 < pool("normand1999", "MD", "PM").tau2 / 2


def test_hsk_is_hunter_schmidt_with_q_scaled_by_k_over_k_minus_1():
    es = escalc("RR", load("bcg"))
    w, k = 1 / es.vi, len(es.yi)
    q = float(generalised_q(es.yi, es.vi, 0.0))
    assert pool("bcg", "RR", "HSk").tau2 == pytest.approx((q * k / (k - 1) - k) / w.sum())
    assert pool("bcg", "RR", "HS").tau2 == pytest.approx((q - k) / w.sum())


def test_cli_offers_the_added_estimators(capsys):
    """``--tau2`` takes the added estimators; a refused fit exits 2 with metafor's reason."""
    path = str(SHARED_DIR / "reference" / "bcg.csv")
    argv = ["pool", path, "--measure", "RR", "--method", "IV"]
    assert main([*argv, "--tau2", "PMM", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    want = expected("bcg", "RR", "PMM")["z"]["tau2"]
    assert out["tau2_method"] == "PMM" and close(out["tau2"], want, ITERATIVE_REL_TOL)
    assert main([*argv, "--tau2", "DLIT"]) == 2
    assert "the DLIT estimate of tau2 did not converge" in capsys.readouterr().err
