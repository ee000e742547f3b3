"""Array-quality metrics: RLE, NUSE, distribution summaries, residual images.

The probe-level model is affyPLM's default ``fitPLM`` fit (affyPLM 1.81,
``R/fitPLM.R``: model ``PM ~ -1 + probes + samples``, ``se.type = 4``,
``psi.type = "Huber"``, ``psi.k = 1.345``, ``max.its = 20``,
``init.method = "ls"``), which affyPLM's ``do_PLMrlm.c`` hands to
preprocessCore's ``rlm_fit_anova`` and ``rlm_compute_se_anova``
(``src/rlm_anova.c``).  For one probe set with log2 PM values ``y_ij``
(probe ``i = 1..k``, array ``j = 1..n``)::

    y_ij = b_j + a_i + e_ij,        a_k = -(a_1 + ... + a_{k-1})

* start: least squares (column means, then row means of what is left);
* up to 20 times: ``s = median|r| / 0.6745``; stop if ``s < 1e-10``;
  Huber weights ``w = min(1, 1.345 / |r / s|)``; exact weighted least
  squares for ``(b, a)``; new residuals; stop when
  ``sqrt(sum (r_old - r)^2 / max(sum r_old^2, 1e-20)) < 1e-4``;
* standard errors (``se.type = 4``):
  ``SE(b_j) = sqrt(sum w r^2 / (kn - k - n + 1)) * sqrt([(X'WX)^-1]_jj)``
  with the final weights and residuals.

* **NUSE** (affyPLM ``nuse``/``NUSE``): ``SE(b_gj) / median_j SE(b_gj)``.
* **RLE** (affyPLM ``RLE``/``Mbox``): ``b_gj - median_j b_gj``, from the PLM
  chip effects.
* **Residual pseudo-images**: the PLM residuals placed at their cells on the
  chip, averaged over square bins so an image of any chip stays small.
* **Summary table**: one row per array with these numbers and outlier flags.

Per array the RLE and NUSE values are summarized by median and IQR (affyPLM's
``type = "stats"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from sigrestore.errors import SigrestoreError

__all__ = [
    "HUBER_K",
    "PlmFit",
    "ResidualImages",
    "box_stats",
    "distribution_summary",
    "fit_plm_block",
    "nuse",
    "qc_table",
    "rle",
]

#: affyPLM's default Huber tuning constant (``get.default.psi.k("Huber")``)
HUBER_K = 1.345
#: preprocessCore divides the median absolute residual by this literal (not qnorm(0.75))
MAD_DIVISOR = 0.6745
#: affyPLM ``max.its`` default, and preprocessCore's IRLS tolerance ``acc``
PLM_MAX_ITER = 20
PLM_TOL = 1e-4
QUANTILE_PROBS = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
#: common log2 grid for intensity densities (CEL intensities are < 2^16)
DENSITY_EDGES = np.linspace(0.0, 16.5, 331)
#: float64 working copies of a ``G x k x n`` block the PLM fit keeps alive
_PLM_COPIES = 10


class PlmFit(NamedTuple):
    """Result of :func:`fit_plm_block` (``G`` probe sets, ``k`` probes, ``n`` arrays).

    Attributes
    ----------
    chip_effects
        ``G x n`` estimates ``b_j`` (log2), affyPLM's ``coefs``.
    probe_effects
        ``G x k`` estimates ``a_i`` (summing to 0), affyPLM's ``coefs.probe``.
    se
        ``G x n`` standard errors of ``b_j`` (``se.type = 4``), affyPLM's ``se``.
    residuals
        ``G x k x n`` residuals ``y - b_j - a_i``.
    weights
        ``G x k x n`` Huber weights of the last weighted least-squares step.
    residual_se
        ``G`` values ``sqrt(sum w r^2 / (kn - k - n + 1))``.
    iterations
        ``G`` counts of reweighting steps done.
    """

    chip_effects: np.ndarray
    probe_effects: np.ndarray
    se: np.ndarray
    residuals: np.ndarray
    weights: np.ndarray
    residual_se: np.ndarray
    iterations: np.ndarray


def _median_abs(r: np.ndarray) -> np.ndarray:
    """Median of ``|r|`` over the last two axes (even counts average the middle two)."""
    flat = np.abs(r.reshape(r.shape[0], -1))
    m = flat.shape[1]
    half = (m - 1) // 2  # lower middle
    if m <= 512:  # a full sort of short rows beats partitioning
        s = np.sort(flat, axis=1)
        return s[:, half] if m % 2 else 0.5 * (s[:, half] + s[:, half + 1])
    part = np.partition(flat, half, axis=1)
    if m % 2:
        return part[:, half]
    return 0.5 * (part[:, half] + part[:, half + 1 :].min(axis=1))


def _reduced_system(w: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The ``(k-1) x (k-1)`` system of the probe effects, given ``d = sum_i w_ij``.

    With ``X'WX = [[D, B], [B', Q]]`` for the parameters ``(b_1..b_n,
    a_1..a_{k-1})`` under the sum-to-zero constraint, the Schur complement
    ``S = Q - B' D^-1 B`` equals ``C' (diag(sum_j w_ij) - W D^-1 W') C`` with
    ``C = [I; -1']``; it is what the probe effects solve against and what the
    chip-effect block of ``(X'WX)^-1`` is built from.
    """
    full = -np.matmul(w / d[:, None, :], w.transpose(0, 2, 1))  # -W D^-1 W', G x k x k
    idx = np.arange(w.shape[1])
    full[:, idx, idx] += w.sum(axis=2)
    return full[:, :-1, :-1] - full[:, :-1, -1:] - full[:, -1:, :-1] + full[:, -1:, -1:]


def _wls(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact weighted least squares of ``y_ij = b_j + a_i`` with ``sum a_i = 0``."""
    d = w.sum(axis=1)  # G x n
    s = _reduced_system(w, d)
    wy = w * y
    ybar = wy.sum(axis=1) / d  # G x n, weighted column means
    rhs = wy.sum(axis=2) - np.einsum("gij,gj->gi", w, ybar)  # G x k
    rc = rhs[:, :-1] - rhs[:, -1:]
    alpha = np.linalg.solve(s, rc[:, :, None])[:, :, 0]
    a = np.concatenate([alpha, -alpha.sum(axis=1, keepdims=True)], axis=1)
    b = ybar - np.einsum("gij,gi->gj", w, a) / d
    return b, a


def _chip_se(w: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``se.type = 4`` standard errors of the chip effects, and the residual SE."""
    _, k, n = w.shape
    dof = k * n - (k + n - 1)
    rss = (w * r * r).sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        rmse = np.sqrt(rss / dof) if dof > 0 else np.full(w.shape[0], np.nan)
    d = w.sum(axis=1)
    s = _reduced_system(w, d)
    # top-left block of the partitioned inverse: D^-1 + D^-1 B S^-1 B' D^-1
    rt = (w[:, :-1, :] - w[:, -1:, :]) / d[:, None, :]  # G x (k-1) x n: (D^-1 B)'
    quad = (rt * np.linalg.solve(s, rt)).sum(axis=1)
    return rmse[:, None] * np.sqrt(1.0 / d + quad), rmse


def _fit_chunk(y: np.ndarray, k_huber: float, max_iter: int, tol: float) -> PlmFit:
    g, k, n = y.shape
    if k == 1:  # no probe effect: exact fit, no residual degrees of freedom
        nan = np.full(g, np.nan)
        se = np.full((g, n), np.nan)
        resid, wts, iters = np.zeros_like(y), np.ones_like(y), np.zeros(g, np.int64)
        return PlmFit(y[:, 0, :].copy(), np.zeros((g, 1)), se, resid, wts, nan, iters)
    # least-squares start (balanced data): column means, then row means of the rest
    b = y.mean(axis=1)
    r = y - b[:, None, :]
    a = r.mean(axis=2)
    r -= a[:, :, None]
    w = np.ones_like(y)
    iters = np.zeros(g, np.int64)
    active = np.arange(g)
    for _ in range(max_iter):
        full = active.size == g  # no gathers/scatters while every probe set iterates
        ra = r if full else r[active]
        scale = _median_abs(ra) / MAD_DIVISOR
        keep = np.abs(scale) >= 1e-10  # preprocessCore stops a (near) perfect fit here
        if not keep.all():
            active, ra, scale, full = active[keep], ra[keep], scale[keep], False
        if active.size == 0:
            break
        ya = y if full else y[active]
        with np.errstate(divide="ignore"):
            ratio = k_huber / np.abs(ra / scale[:, None, None])
        wa = np.minimum(ratio, 1.0)  # psi_huber(u, k, 0), the weight function
        ba, aa = _wls(ya, wa)
        rnew = ya - (ba[:, None, :] + aa[:, :, None])
        diff = ra - rnew
        num = np.einsum("gij,gij->g", diff, diff)
        den = np.maximum(np.einsum("gij,gij->g", ra, ra), 1e-20)
        conv = np.sqrt(num / den)
        if full:
            w, r, b, a = wa, rnew, ba, aa
        else:
            w[active], r[active], b[active], a[active] = wa, rnew, ba, aa
        iters[active] += 1
        active = active[conv >= tol]
        if active.size == 0:
            break
    se, rmse = _chip_se(w, r)
    return PlmFit(b, a, se, r, w, rmse, iters)


def fit_plm_block(
    y: np.ndarray,
    *,
    k: float = HUBER_K,
    max_iter: int = PLM_MAX_ITER,
    tol: float = PLM_TOL,
    max_bytes: int = 64 << 20,
) -> PlmFit:
    """affyPLM's default probe-level model fit for probe sets sharing a probe count.

    Parameters
    ----------
    y
        ``G x k x n`` log2 normalized PM values (probe sets x probes x arrays).
    k
        Huber tuning constant.
    max_iter, tol
        IRLS limits: affyPLM's ``max.its = 20`` and preprocessCore's
        tolerance 1e-4 on the relative change of the residual vector.  Each
        probe set stops on its own, as each is a separate fit in affyPLM.
    max_bytes
        Working-memory budget: the block is fitted in chunks of probe sets
        so that about ten ``chunk x k x n`` float64 arrays fit in it.

    Returns
    -------
    PlmFit
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 3:
        raise SigrestoreError(f"fit_plm_block: expected a G x k x n array, got shape {y.shape}")
    g, kp, n = y.shape
    step = max(1, int(max_bytes) // max(1, _PLM_COPIES * kp * n * 8))
    if step >= g:
        return _fit_chunk(y, k, max_iter, tol)
    out = PlmFit(
        np.empty((g, n)),
        np.empty((g, kp)),
        np.empty((g, n)),
        np.empty_like(y),
        np.empty_like(y),
        np.empty(g),
        np.empty(g, np.int64),
    )
    for s in range(0, g, step):
        for dest, part in zip(out, _fit_chunk(y[s : s + step], k, max_iter, tol), strict=True):
            dest[s : s + step] = part
    return out


def nuse(se: np.ndarray) -> np.ndarray:
    """NUSE (affyPLM ``NUSE(type = "values")``): each probe set's chip-effect
    standard errors over their median across arrays (NaN ignored)."""
    med = np.nanmedian(se, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return se / med


def rle(expression: np.ndarray) -> np.ndarray:
    """RLE (affyPLM ``RLE(type = "values")``, applied to the PLM chip effects):
    each probe set's values minus their median across arrays."""
    return expression - np.nanmedian(expression, axis=1, keepdims=True)


def _quantiles_sorted(s: np.ndarray, probs) -> np.ndarray:
    """Type-7 quantiles of sorted data (numpy's / R's default)."""
    h = (s.size - 1) * np.asarray(probs, dtype=np.float64)
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, s.size - 1)
    return s[lo] + (h - lo) * (s[hi] - s[lo])


def box_stats(values: np.ndarray, *, assume_sorted: bool = False) -> dict[str, float]:
    """Tukey boxplot statistics (matplotlib ``bxp`` keys) of one array's values."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return dict.fromkeys(("q1", "med", "q3", "whislo", "whishi", "mean", "iqr"), np.nan)
    s = v if assume_sorted else np.sort(v)
    q1, med, q3 = _quantiles_sorted(s, (0.25, 0.5, 0.75))
    iqr = q3 - q1
    lo = np.searchsorted(s, q1 - 1.5 * iqr, side="left")
    hi = np.searchsorted(s, q3 + 1.5 * iqr, side="right") - 1
    return {
        "q1": float(q1),
        "med": float(med),
        "q3": float(q3),
        "whislo": float(s[lo]) if lo <= hi else float(q1),
        "whishi": float(s[hi]) if lo <= hi else float(q3),
        "mean": float(s.mean()),
        "iqr": float(iqr),
    }


def distribution_summary(
    log2_values: np.ndarray, *, assume_sorted: bool = False
) -> tuple[dict[str, float], np.ndarray]:
    """Quantiles + boxplot stats, and a density on :data:`DENSITY_EDGES`.

    ``assume_sorted``: the values are already ascending (saves a sort).
    """
    s = np.asarray(log2_values, dtype=np.float64)
    if not assume_sorted:
        s = np.sort(s)
    stats = box_stats(s, assume_sorted=True)
    for p, q in zip(QUANTILE_PROBS, _quantiles_sorted(s, QUANTILE_PROBS), strict=True):
        stats[f"p{round(p * 100):02d}"] = float(q)
    counts = np.diff(np.searchsorted(s, DENSITY_EDGES, side="left"))
    dens = counts / (s.size * np.diff(DENSITY_EDGES))
    return stats, dens


@dataclass
class ResidualImages:
    """Residuals of the probe-level fit binned onto the chip.

    ``images[j]`` is array ``j``'s image, ``bin`` x ``bin`` cells per pixel
    (mean residual over the PM cells in the pixel; NaN where there are none).
    """

    images: np.ndarray
    bin: int
    rows: int
    cols: int

    @classmethod
    def allocate(
        cls, rows: int, cols: int, n_arrays: int, *, max_side: int = 200
    ) -> ResidualImages:
        b = max(1, int(np.ceil(max(rows, cols) / max_side)))
        h, w = -(-rows // b), -(-cols // b)
        obj = cls(images=np.zeros((n_arrays, h, w)), bin=b, rows=rows, cols=cols)
        obj._count = np.zeros(h * w)
        return obj

    def add(self, cells: np.ndarray, residuals: np.ndarray) -> None:
        """Add residuals (``n_cells_in_block x n_arrays``) at cell indices."""
        _, h, w = self.images.shape
        y, x = np.divmod(cells, self.cols)
        pix = (y // self.bin) * w + (x // self.bin)
        self._count += np.bincount(pix, minlength=h * w)
        n_arrays = self.images.shape[0]
        flat = self.images.reshape(n_arrays, -1)
        # One bincount for every array: array j's pixels are offset by j * h * w.
        # Each bin sums its residuals in the order they come, as one bincount
        # per array would, so the images are the same to the last bit.
        bins = (np.arange(n_arrays)[:, None] * (h * w) + pix[None, :]).ravel()
        flat += np.bincount(
            bins, weights=np.ascontiguousarray(residuals.T).ravel(), minlength=n_arrays * h * w
        ).reshape(n_arrays, h * w)

    def finish(self) -> ResidualImages:
        with np.errstate(invalid="ignore", divide="ignore"):
            self.images /= np.where(self._count > 0, self._count, np.nan).reshape(
                self.images.shape[1:]
            )
        self.images = self.images.astype(np.float32)
        return self


def _upper_fence(x: np.ndarray) -> float:
    q1, q3 = np.nanpercentile(x, [25, 75])
    return q3 + 1.5 * (q3 - q1)


def qc_table(
    samples: list[str],
    rle_values: np.ndarray,
    nuse_values: np.ndarray,
    *,
    raw_stats: pd.DataFrame | None = None,
    background: pd.DataFrame | None = None,
    rle_median_limit: float = 0.1,
    nuse_median_limit: float = 1.05,
    min_excess: float = 0.02,
) -> pd.DataFrame:
    """Per-array QC summary with outlier flags.

    An array is flagged on RLE when ``|median RLE| > rle_median_limit`` or its
    RLE IQR lies above the upper Tukey fence ``Q3 + 1.5 IQR`` of all arrays'
    RLE IQRs; on NUSE when its median NUSE exceeds ``nuse_median_limit`` or
    the upper fence of all arrays' NUSE medians.  ``outlier`` is either flag.
    Fences are used with at least 4 arrays, and only count when the array's
    value also exceeds the median over arrays by more than ``min_excess``
    (log2 units for the RLE IQR, NUSE units for NUSE): among uniformly good
    arrays the fence is so tight that a 0.1 % difference would cross it.
    """
    rle_med = np.nanmedian(rle_values, axis=0)
    rle_iqr = np.subtract(*np.nanpercentile(rle_values, [75, 25], axis=0))
    nuse_med = np.nanmedian(nuse_values, axis=0)
    nuse_iqr = np.subtract(*np.nanpercentile(nuse_values, [75, 25], axis=0))
    table = pd.DataFrame(
        {
            "rle_median": rle_med,
            "rle_iqr": rle_iqr,
            "nuse_median": nuse_med,
            "nuse_iqr": nuse_iqr,
        },
        index=pd.Index(samples, name="sample"),
    )
    many = len(samples) >= 4  # fences over fewer arrays mean little

    def beyond_fence(x: np.ndarray) -> np.ndarray:
        return many & (x > _upper_fence(x)) & (x > np.nanmedian(x) + min_excess)

    table["rle_flag"] = (np.abs(rle_med) > rle_median_limit) | beyond_fence(rle_iqr)
    table["nuse_flag"] = (nuse_med > nuse_median_limit) | beyond_fence(nuse_med)
    table["outlier"] = table["rle_flag"] | table["nuse_flag"]
    if raw_stats is not None:
        table["raw_log2_median"] = raw_stats["med"].to_numpy()
        table["raw_log2_iqr"] = raw_stats["iqr"].to_numpy()
    if background is not None:
        table = table.join(background.add_prefix("bg_"))
    return table
