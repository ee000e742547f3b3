"""Array-quality metrics: RLE, NUSE, distribution summaries, residual images.

* **RLE** (relative log expression): for every probe set, each array's
  expression minus the probe set's median across arrays; per array the median
  (should be near 0) and IQR (should be small) of these deviations.
* **NUSE** (normalized unscaled standard error), as affyPLM defines it: fit
  the probe-level model ``y_ij = a_i + b_j + e_ij`` (probe effect ``a_i`` with
  ``sum a_i = 0``, chip effect ``b_j``) to each probe set's log2 normalized
  PM values by M-estimation with Huber's psi (k = 1.345, scale = MAD of the
  residuals, iteratively reweighted least squares); the unscaled standard
  error of chip effect ``b_j`` is ``1 / sqrt(sum_i w_ij)``; NUSE divides it
  by its median over arrays within the probe set.  Per array: median and IQR.
* **Residual pseudo-images**: the PLM residuals placed at their cells on the
  chip, averaged over square bins so an image of any chip stays small.
* **Summary table**: one row per array with these numbers and outlier flags.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "HUBER_K",
    "ResidualImages",
    "box_stats",
    "distribution_summary",
    "fit_plm_block",
    "nuse",
    "qc_table",
    "rle",
]

HUBER_K = 1.345
_MAD_CONST = 0.6744897501960817  # qnorm(0.75)
QUANTILE_PROBS = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
#: common log2 grid for intensity densities (CEL intensities are < 2^16)
DENSITY_EDGES = np.linspace(0.0, 16.5, 331)


def fit_plm_block(
    y: np.ndarray,
    *,
    start_resid: np.ndarray | None = None,
    max_iter: int = 30,
    tol: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Huber M-estimation of ``y_ij = a_i + b_j`` for a block of probe sets.

    Parameters
    ----------
    y
        ``G x k x n`` log2 values (probe sets x probes x arrays).
    start_resid
        Residuals of a starting fit (median polish), same shape; optional.
    max_iter, tol
        IRLS limits: a probe set stops when none of its effects moves by
        more than ``tol`` (log2 units) in an iteration.

    Returns
    -------
    chip_effects : numpy.ndarray
        ``G x n`` estimates ``b_j`` (log2 scale).
    unscaled_se : numpy.ndarray
        ``G x n`` values ``1 / sqrt(sum_i w_ij)``.
    residuals : numpy.ndarray
        ``G x k x n``.
    """
    g, k, n = y.shape
    if start_resid is not None:
        # The median-polish fit t + r_i + c_j is additive: split it into
        # probe effects centred at 0 and chip effects.
        fitted = y - start_resid
        b = fitted.mean(axis=1)
        a = fitted.mean(axis=2) - b.mean(axis=1, keepdims=True)
    else:
        b = np.median(y, axis=1)
        a = np.zeros((g, k))
    w = np.ones_like(y)
    # Probe sets leave the active set once converged (each is its own fit).
    active = np.arange(g)
    for _ in range(max_iter):
        ya, aa, ba = y[active], a[active], b[active]
        absd = np.abs(ya - aa[:, :, None] - ba[:, None, :])
        half = (k * n) // 2
        scale = np.partition(absd.reshape(active.size, -1), half, axis=1)[:, half]
        scale = np.where(scale > 0, scale / _MAD_CONST, 1.0)[:, None, None]
        # Huber weights min(1, K / |e / s|), without dividing by zero.
        wa = np.minimum(1.0, HUBER_K * scale / np.maximum(absd, 1e-300))
        # One backfitting sweep of the weighted additive fit per reweighting:
        # the IRLS and the backfitting converge together.
        wy = wa * ya
        b_new = (wy.sum(axis=1) - (wa * aa[:, :, None]).sum(axis=1)) / wa.sum(axis=1)
        a_new = (wy.sum(axis=2) - (wa * b_new[:, None, :]).sum(axis=2)) / wa.sum(axis=2)
        shift = a_new.mean(axis=1, keepdims=True)
        a_new -= shift
        b_new += shift
        moved = np.maximum(np.abs(a_new - aa).max(axis=1), np.abs(b_new - ba).max(axis=1))
        a[active], b[active], w[active] = a_new, b_new, wa
        active = active[moved >= tol]
        if active.size == 0:
            break
    se = 1.0 / np.sqrt(w.sum(axis=1))
    return b, se, y - a[:, :, None] - b[:, None, :]


def nuse(unscaled_se: np.ndarray) -> np.ndarray:
    """NUSE: each probe set's standard errors over their median across arrays."""
    med = np.nanmedian(unscaled_se, axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return unscaled_se / med


def rle(expression: np.ndarray) -> np.ndarray:
    """RLE: expression minus the probe set's median across arrays."""
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


def distribution_summary(log2_values: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
    """Quantiles + boxplot stats, and a density on :data:`DENSITY_EDGES`."""
    s = np.sort(np.asarray(log2_values, dtype=np.float64))
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
        flat = self.images.reshape(self.images.shape[0], -1)
        for j in range(flat.shape[0]):  # per array; the block is already vectorized
            flat[j] += np.bincount(pix, weights=residuals[:, j], minlength=h * w)

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
) -> pd.DataFrame:
    """Per-array QC summary with outlier flags.

    An array is flagged on RLE when ``|median RLE| > rle_median_limit`` or its
    RLE IQR lies above the upper Tukey fence of all arrays' IQRs; on NUSE when
    its median NUSE exceeds ``nuse_median_limit`` or the upper fence of all
    arrays' NUSE medians.  ``outlier`` is either flag.
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
    table["rle_flag"] = (np.abs(rle_med) > rle_median_limit) | (
        many & (rle_iqr > _upper_fence(rle_iqr))
    )
    table["nuse_flag"] = (nuse_med > nuse_median_limit) | (
        many & (nuse_med > _upper_fence(nuse_med))
    )
    table["outlier"] = table["rle_flag"] | table["nuse_flag"]
    if raw_stats is not None:
        table["raw_log2_median"] = raw_stats["med"].to_numpy()
        table["raw_log2_iqr"] = raw_stats["iqr"].to_numpy()
    if background is not None:
        table = table.join(background.add_prefix("bg_"))
    return table
