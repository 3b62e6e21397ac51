"""Allowed analysis options in one declarative place, so every entry point (CLI, config,
Python) rejects the same bad values with the same message."""

from __future__ import annotations

BINARY_MEASURES = ("OR", "RR", "RD")
CONTINUOUS_MEASURES = ("MD", "SMD")
GENERIC_MEASURES = ("GIV",)
RATIO_MEASURES = ("OR", "RR")
MEASURES = BINARY_MEASURES + CONTINUOUS_MEASURES + GENERIC_MEASURES
METHODS = ("MH", "IV", "Peto")
MODELS = ("fixed", "random")
# tau2 estimators, by metafor's rma(method = ...) names: DerSimonian-Laird, restricted and
# plain maximum likelihood, Paule-Mandel, Hedges, Hunter-Schmidt, Sidik-Jonkman and
# empirical Bayes (iterative, converging to the Paule-Mandel root); then Hunter-Schmidt
# with its k / (k - p) correction, iterated DL (below PM) and iterated SJ (converging to
# the PM root), median-unbiased Paule-Mandel, and MP, metafor's alias of PM. GENQ and
# GENQM are left out: they need user-given weights.
TAU2_METHODS = (
    "DL",
    "REML",
    "PM",
    "ML",
    "HE",
    "HS",
    "SJ",
    "EB",
    "HSk",
    "DLIT",
    "SJIT",
    "PMM",
    "MP",
)
# Effect-size formulas: metafor's (exact Hedges' g, 0.5 inside a zero-cell study's RD, Sato's
# M-H RD variance) or RevMan 5's (approximate g, observed RD, Greenland-Robins variance).
CONVENTIONS = ("metafor", "revman5")
MH_RD_VARIANCES = ("sato", "greenland-robins")
# Prediction interval: normal quantile (metafor predict() on a z-based fit), t on k - 1 df,
# or t on k - 2 df (Higgins, Thompson & Spiegelhalter 2009; the Cochrane Handbook).
PI_METHODS = ("z", "t-k1", "t-k2")
# Small-study effects: fewest studies to test (Cochrane Handbook 13.3.5.4) and the tests.
COCHRANE_MIN_K = 10
BIAS_TESTS = ("egger", "egger-rma", "begg", "peters", "harbord")


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    """Return ``value`` if allowed, else raise ``ValueError`` listing the allowed values."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def check_options(measure: str, method: str, model: str, tau2_method: str) -> None:
    """Reject combinations that no standard software offers (e.g. Peto risk ratio)."""
    check_choice("measure", measure, MEASURES)
    check_choice("method", method, METHODS)
    check_choice("model", model, MODELS)
    check_choice("tau2_method", tau2_method, TAU2_METHODS)
    if method == "MH" and measure not in BINARY_MEASURES:
        raise ValueError(f"method MH needs a binary measure (OR, RR, RD); got {measure}")
    if method == "Peto" and measure != "OR":
        raise ValueError(f"method Peto gives odds ratios only; got measure {measure}")
    if method == "Peto" and model == "random":
        raise ValueError("method Peto is a fixed-effect method; use IV or MH for random effects")
    if method == "MH" and model == "random" and tau2_method != "DL":
        raise ValueError(
            f"method MH with random effects estimates tau2 by DerSimonian-Laird (RevMan 5); "
            f"tau2_method {tau2_method} needs method IV"
        )
