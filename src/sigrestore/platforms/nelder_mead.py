"""The Nelder-Mead simplex minimizer as R's ``optim(method = "Nelder-Mead")`` runs it.

limma's ``normexp.fit`` (method ``"saddle"``) minimizes its likelihood with R's
C routine ``nmmin`` (J.C. Nash's *Compact Numerical Methods*, recast by
B.D. Ripley).  A parameter estimate equal to limma's to 1e-6 needs the same
path through the parameter space, not merely the same optimum: the search
stops when the simplex's function values agree to a relative 1.5e-8, which
leaves the parameters ~1e-4 from the exact minimum.  This module is an
independent implementation of that algorithm's documented steps: the same
initial simplex (one step of ``max(0.1 |b_i|)`` per coordinate), reflection
(1), expansion (2), contraction (0.5), shrink towards the best vertex, and the
same stopping rule and evaluation count.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["NelderMeadResult", "nelder_mead"]

# Value given to a non-finite objective (R's ``big``).
_BIG = 1.0e35


@dataclass(frozen=True)
class NelderMeadResult:
    """Minimum found: ``par``, ``value``, ``fncount`` (evaluations) and
    ``convergence`` (0 converged, 1 evaluation limit, 10 degenerate simplex),
    as R's ``optim`` reports them."""

    par: np.ndarray
    value: float
    fncount: int
    convergence: int


def nelder_mead(
    fn: Callable[[np.ndarray], float],
    start: np.ndarray,
    *,
    reltol: float = 1.490116e-08,
    abstol: float = -1e308,
    alpha: float = 1.0,
    beta: float = 0.5,
    gamma: float = 2.0,
    maxit: int = 500,
) -> NelderMeadResult:
    """Minimize ``fn`` from ``start`` with R's Nelder-Mead rules.

    Parameters
    ----------
    fn
        Objective of a float64 parameter vector.
    start
        Starting parameters.
    reltol, abstol
        Stop when the spread of the simplex's values is at most
        ``reltol * (|f(start)| + reltol)`` or the best value is at most ``abstol``.
    alpha, beta, gamma
        Reflection, contraction and expansion coefficients.
    maxit
        Maximum number of function evaluations.

    Returns
    -------
    NelderMeadResult
    """
    b = np.array(start, dtype=np.float64)
    n = b.size
    if maxit <= 0:
        return NelderMeadResult(b, float(fn(b)), 0, 0)
    f = float(fn(b))
    if not math.isfinite(f):
        raise ValueError("Nelder-Mead: the function cannot be evaluated at the start")
    funcount = 1
    convtol = reltol * (abs(f) + reltol)
    # Simplex: columns 0..n are vertices, row n holds their values; column
    # n + 1 is the centroid work space.
    p = np.empty((n + 1, n + 2), dtype=np.float64)
    p[n, 0] = f
    p[:n, 0] = b
    low = 0
    step = max(0.1 * abs(v) for v in b) if n else 0.0
    if step == 0.0:
        step = 0.1
    size = 0.0
    for j in range(1, n + 1):
        p[:n, j] = b
        trystep = step
        while p[j - 1, j] == b[j - 1]:
            p[j - 1, j] = b[j - 1] + trystep
            trystep *= 10
        size += trystep
    oldsize = size
    calcvert = True
    fail = 0
    cen = n + 1

    def value(v: np.ndarray) -> float:
        out = float(fn(v))
        return out if math.isfinite(out) else _BIG

    while True:
        if calcvert:
            for j in range(n + 1):
                if j != low:
                    p[n, j] = value(p[:n, j].copy())
                    funcount += 1
            calcvert = False
        vl = p[n, low]
        vh = vl
        high = low
        for j in range(n + 1):
            if j != low:
                fj = p[n, j]
                if fj < vl:
                    low, vl = j, fj
                if fj > vh:
                    high, vh = j, fj
        if vh <= vl + convtol or vl <= abstol:
            break
        # Centroid of all vertices but the highest, summed in vertex order
        # (starting from minus the highest vertex, as the reference does).
        for i in range(n):
            temp = -p[i, high]
            for j in range(n + 1):
                temp += p[i, j]
            p[i, cen] = temp / n
        b = (1.0 + alpha) * p[:n, cen] - alpha * p[:n, high]
        f = value(b)
        funcount += 1
        vr = f
        if vr < vl:
            p[n, cen] = f
            expanded = gamma * b + (1 - gamma) * p[:n, cen]
            p[:n, cen] = b
            b = expanded
            f = value(b)
            funcount += 1
            if f < vr:
                p[:n, high] = b
                p[n, high] = f
            else:
                p[:n, high] = p[:n, cen]
                p[n, high] = vr
        else:
            if vr < vh:
                p[:n, high] = b
                p[n, high] = vr
            b = (1 - beta) * p[:n, high] + beta * p[:n, cen]
            f = value(b)
            funcount += 1
            if f < p[n, high]:
                p[:n, high] = b
                p[n, high] = f
            elif vr >= vh:
                calcvert = True
                size = 0.0
                for j in range(n + 1):
                    if j != low:
                        p[:n, j] = beta * (p[:n, j] - p[:n, low]) + p[:n, low]
                        size += float(np.sum(np.abs(p[:n, j] - p[:n, low])))
                if size < oldsize:
                    oldsize = size
                else:
                    fail = 10
                    break
        if funcount > maxit:
            break
    if funcount > maxit:
        fail = 1
    return NelderMeadResult(p[:n, low].copy(), float(p[n, low]), funcount, fail)
