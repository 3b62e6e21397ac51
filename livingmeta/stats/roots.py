"""Brent's root finder exactly as R's ``uniroot`` runs it (``R_zeroin2`` in R's C sources).

metafor finds the Paule-Mandel tau2 and the Q-profile confidence limits with ``uniroot``
at its default tolerance (``eps^0.25``, about 1.2e-4). A different root finder stopping at
the same tolerance lands elsewhere inside that tolerance; taking the same steps lands on
the same point, so the results agree with metafor to far more digits than the tolerance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EPSILON = float(np.finfo(float).eps)
UNIROOT_TOL = EPSILON**0.25
UNIROOT_MAXITER = 1000


def uniroot(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    tol: float = UNIROOT_TOL,
    maxiter: int = UNIROOT_MAXITER,
) -> float:
    """The root of ``f`` in ``[lower, upper]`` (signs must differ at the ends), stepping as
    R's ``uniroot(f, c(lower, upper), tol = tol)``.

    Examples
    --------
    >>> round(uniroot(lambda x: x * x - 2, 0.0, 2.0, tol=1e-12), 10)
    1.4142135624
    """
    a, b = float(lower), float(upper)
    fa, fb = float(f(a)), float(f(b))
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if fa * fb > 0:
        raise ValueError(f"no sign change of the function between {a:g} and {b:g}")
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * EPSILON * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            new_step = _interpolated_step(a, b, c, fa, fb, fc, prev_step, tol_act, new_step)
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = float(f(b))
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    raise ValueError(f"uniroot did not converge in {maxiter} iterations")


def _interpolated_step(
    a: float,
    b: float,
    c: float,
    fa: float,
    fb: float,
    fc: float,
    prev_step: float,
    tol_act: float,
    bisection: float,
) -> float:
    """Secant or inverse quadratic interpolation step, or the bisection step when the
    interpolated point falls outside ``[b, c]`` or moves too far."""
    cb = c - b
    if a == c:
        t1 = fb / fa
        p = cb * t1
        q = 1.0 - t1
    else:
        q, t1, t2 = fa / fc, fb / fc, fb / fa
        p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
        q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
    if p > 0:
        q = -q
    else:
        p = -p
    if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
        return p / q
    return bisection
