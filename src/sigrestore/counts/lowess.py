"""R's ``lowess`` (Cleveland's LOWESS as R's C routine ``clowess`` runs it) and ``approxfun``.

voom's mean-variance trend is ``lowess(x, y, f = span)`` followed by
``approxfun(rule = 2, ties = list("ordered", mean))``; matching limma's
weights to 1e-8 needs the same algorithm, not just any local regression:

* points sorted by x (stable); the local window holds ``ns = max(2, min(n,
  floor(f n + 1e-7)))`` points;
* fits are made only at *anchor* points: the first point, then repeatedly the
  last point within ``delta = 0.01 * range(x)`` of the previous anchor (at
  least the next point); points tied in x with an anchor take its value, the
  others are linearly interpolated between the anchors around them;
* the window of an anchor ``x_i`` is the ``ns`` consecutive points
  ``[l, l + ns)`` with the smallest ``l`` such that ``x_i - x_l <=
  x_{l+ns} - x_i`` (or the last ``ns`` points); its radius is
  ``h = max(x_i - x_l, x_{l+ns-1} - x_i)``, and points beyond ``l + ns - 1``
  tied within ``0.999 h`` are included;
* tricube weights ``(1 - (d/h)^3)^3`` (1 within ``0.001 h``, 0 beyond
  ``0.999 h``) times the robustness weights, a weighted straight line
  (a weighted mean when the weighted spread of x is at most
  ``0.001 * range(x)``); when all weights are 0 the fitted value is y itself;
* ``iter = 3`` robustness steps: residuals ``r``, ``cmad = 6 median |r|``,
  bisquare weights ``(1 - (r/cmad)^2)^2`` (1 below ``0.001 cmad``, 0 above
  ``0.999 cmad``); stop early when ``cmad < 1e-7 mean |r|``.

The anchors and windows depend only on x, so they are found once; each fit
is a vectorized weighted regression over the anchor's window (a loop over the
about one hundred anchors, never over the points).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Lowess", "approx_ordered_mean", "lowess"]


@dataclass(frozen=True)
class Lowess:
    """A lowess curve: the sorted x and the fitted values (R's ``list(x, y)``)."""

    x: np.ndarray
    y: np.ndarray


def _anchors(x: np.ndarray, delta: float) -> np.ndarray:
    """Indices of the points where clowess fits (the others are interpolated or tied)."""
    n = x.size
    out = []
    i = 0
    while True:  # one step per anchor (about 1 / 0.01 of them), not per point
        out.append(i)
        last = int(np.searchsorted(x, x[i], side="right")) - 1  # ties of the anchor
        if last >= n - 1:
            break
        first_beyond = int(np.searchsorted(x, x[last] + delta, side="right"))
        i = max(last + 1, first_beyond - 1)
    return np.asarray(out, dtype=np.intp)


def _window_starts(x: np.ndarray, anchors: np.ndarray, ns: int) -> np.ndarray:
    """Left end of every anchor's ``ns``-point window, by clowess's moving rule."""
    n = x.size
    if ns >= n:
        return np.zeros(anchors.size, dtype=np.intp)
    starts = np.empty(anchors.size, dtype=np.intp)
    lefts = np.arange(n - ns)
    for k, i in enumerate(anchors):
        xi = x[i]
        # the window moves right while x_i - x_l > x_{l+ns} - x_i; the
        # condition only turns false once along l
        move = (xi - x[lefts]) > (x[lefts + ns] - xi)
        stop = np.flatnonzero(~move)
        starts[k] = stop[0] if stop.size else n - ns
    return starts


def _local_fits(x, y, anchors, starts, ns, rw, xrange) -> np.ndarray:
    """Fitted values at the anchors (clowess's ``lowest``)."""
    fits = np.empty(anchors.size)
    for k, (i, left) in enumerate(zip(anchors, starts, strict=True)):
        xs = x[i]
        right = left + ns - 1
        h = max(xs - x[left], x[right] - xs)
        h9, h1 = 0.999 * h, 0.001 * h
        # up to the last point within h (points further than 0.999 h from the
        # anchor, on either side, get weight 0 and add nothing to the sums)
        stop = max(int(np.searchsorted(x, xs + h, side="right")), right + 1)
        xw = x[left:stop]
        r = np.abs(xw - xs)
        w = np.where(r <= h1, 1.0, (1.0 - (r / h) ** 3) ** 3) if h > 0 else np.ones_like(r)
        w = np.where(r <= h9, w, 0.0)
        if rw is not None:
            w = w * rw[left:stop]
        a = w.sum()
        if not a > 0:
            fits[k] = y[i]
            continue
        w = w / a
        if h > 0:
            centre = float(np.sum(w * xw))
            b = xs - centre
            c = float(np.sum(w * (xw - centre) ** 2))
            if np.sqrt(c) > 0.001 * xrange:
                w = w * (b / c * (xw - centre) + 1.0)
        fits[k] = float(np.sum(w * y[left:stop]))
    return fits


def _fill(x: np.ndarray, anchors: np.ndarray, fits: np.ndarray) -> np.ndarray:
    """Values at every point: ties copy their anchor, the rest interpolate linearly."""
    n = x.size
    ys = np.empty(n)
    # every point's anchor at or before it, and the next anchor
    pos = np.searchsorted(anchors, np.arange(n), side="right") - 1
    prev = anchors[pos]
    ys[anchors] = fits
    nxt_k = np.minimum(pos + 1, anchors.size - 1)
    nxt = anchors[nxt_k]
    tied = x == x[prev]
    between = ~tied & (np.arange(n) != prev)
    if between.any():
        j = np.flatnonzero(between)
        # clowess interpolates from the last point it set: the anchor or a tie of it
        # (same x and value), so the anchor gives the same numbers
        x0, x1 = x[prev[j]], x[nxt[j]]
        alpha = (x[j] - x0) / (x1 - x0)
        ys[j] = alpha * fits[nxt_k[j]] + (1.0 - alpha) * fits[pos[j]]
    t = np.flatnonzero(tied & (np.arange(n) != prev))
    ys[t] = fits[pos[t]]
    return ys


def lowess(
    x: np.ndarray,
    y: np.ndarray,
    *,
    f: float = 2.0 / 3.0,
    iterations: int = 3,
    delta: float | None = None,
) -> Lowess:
    """R's ``lowess(x, y, f, iter, delta)``.

    Parameters
    ----------
    x, y
        The points (finite).
    f
        Span: the share of points in each local fit.
    iterations
        Robustness iterations (R's ``iter``).
    delta
        Anchor spacing; default ``0.01 * (max(x) - min(x))``.

    Returns
    -------
    Lowess
        ``x`` sorted (stable) and the fitted values in that order.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    n = x.size
    if delta is None:
        delta = 0.01 * (x[-1] - x[0]) if n else 0.0
    if n < 2:
        return Lowess(x, y.copy())
    ns = max(2, min(n, int(f * n + 1e-7)))
    xrange = x[-1] - x[0]
    anchors = _anchors(x, delta)
    starts = _window_starts(x, anchors, ns)
    rw = None
    ys = y
    for step in range(iterations + 1):
        ys = _fill(x, anchors, _local_fits(x, y, anchors, starts, ns, rw, xrange))
        if step == iterations:
            break
        res = np.abs(y - ys)
        sc = res.sum() / n
        srt = np.sort(res)
        m1 = n // 2
        cmad = 3.0 * (srt[m1] + srt[n - m1 - 1]) if n % 2 == 0 else 6.0 * srt[m1]
        if cmad < 1e-7 * sc:
            break
        c9, c1 = 0.999 * cmad, 0.001 * cmad
        rw = np.where(res <= c1, 1.0, np.where(res <= c9, (1.0 - (res / cmad) ** 2) ** 2, 0.0))
    return Lowess(x, ys)


def approx_ordered_mean(curve: Lowess, v: np.ndarray) -> np.ndarray:
    """``approxfun(curve, rule = 2, ties = list("ordered", mean))(v)``.

    Tied x values are collapsed to the mean of their y; linear interpolation
    between them, constant beyond the ends.
    """
    ux, start, counts = np.unique(curve.x, return_index=True, return_counts=True)
    uy = np.add.reduceat(curve.y, start) / counts
    v = np.asarray(v, dtype=float)
    if ux.size == 1:
        return np.full(v.shape, uy[0])
    # np.interp: the same straight lines (R's and numpy's formulas differ only in
    # rounding, ~1e-16), the end values beyond the ends (rule = 2); NaN stays NaN
    return np.interp(v, ux, uy, left=uy[0], right=uy[-1])
