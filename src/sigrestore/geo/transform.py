"""Values as GEO2R treats them: the log2 decision and optional quantile normalization.

GEO2R (NCBI's GEOquery + limma script) decides from six quantiles of all
values (R's default type-7 quantiles, missing values ignored) whether a
submitter's matrix is on a linear scale::

    qx = quantile(ex, c(0, 0.25, 0.5, 0.75, 0.99, 1))
    LogC = qx[5] > 100 || (qx[6] - qx[1] > 50 && qx[2] > 0)

and, if so, sets values <= 0 to NaN and takes log2.  The same rule is applied
here (``log2: auto``); ``yes``/``no`` force the choice.  The decision and the
quantiles behind it are returned so the log and the report can say why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sigrestore.errors import ConfigError
from sigrestore.platforms.normalize import normalize_quantiles as limma_normalize_quantiles

__all__ = [
    "LOG2_CHOICES",
    "NORMALIZE_CHOICES",
    "Log2Decision",
    "apply_log2",
    "decide_log2",
    "normalize_quantiles",
]

LOG2_CHOICES = ("auto", "yes", "no")
NORMALIZE_CHOICES = ("none", "quantile")
_PROBS = (0.0, 0.25, 0.5, 0.75, 0.99, 1.0)


@dataclass(frozen=True)
class Log2Decision:
    """Whether log2 was taken, and why.

    Attributes
    ----------
    transform : bool
        True: values <= 0 were set to NaN and log2 taken.
    mode : str
        The requested mode (``auto``, ``yes``, ``no``).
    quantiles : tuple of float
        Quantiles 0, .25, .5, .75, .99, 1 of the input values (NaN ignored).
    reason : str
        One sentence for the log and the report.
    """

    transform: bool
    mode: str
    quantiles: tuple[float, ...]
    reason: str

    def as_dict(self) -> dict:
        """A JSON-friendly record for the provenance."""
        return {
            "log2": self.transform,
            "mode": self.mode,
            "quantiles": dict(
                zip(("q0", "q25", "q50", "q75", "q99", "q100"), self.quantiles, strict=True)
            ),
            "reason": self.reason,
        }


def _quantiles(values: np.ndarray) -> tuple[float, ...]:
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return tuple(float("nan") for _ in _PROBS)
    # numpy's default "linear" method is R's type 7.
    return tuple(float(q) for q in np.quantile(finite, _PROBS))


def decide_log2(values: np.ndarray | pd.DataFrame, mode: str = "auto") -> Log2Decision:
    """GEO2R's log2 rule (``mode="auto"``) or a forced choice.

    Parameters
    ----------
    values
        Features x samples, NaN for missing.
    mode
        ``"auto"``, ``"yes"`` or ``"no"``.
    """
    if mode not in LOG2_CHOICES:
        raise ConfigError(f"log2 must be one of {list(LOG2_CHOICES)}, not {mode!r}")
    qx = _quantiles(np.asarray(values, dtype=np.float64).ravel())
    shown = ", ".join(f"{q:.4g}" for q in qx)
    if mode == "yes":
        return Log2Decision(True, mode, qx, f"log2 forced by the configuration (quantiles {shown})")
    if mode == "no":
        return Log2Decision(False, mode, qx, f"values used as given (log2: no; quantiles {shown})")
    big_99 = qx[4] > 100
    wide = (qx[5] - qx[0] > 50) and qx[1] > 0
    transform = bool(big_99 or wide)
    if big_99:
        why = f"the 99th percentile {qx[4]:.4g} is above 100"
    elif wide:
        why = f"the range {qx[5] - qx[0]:.4g} exceeds 50 and the lower quartile {qx[1]:.4g} is > 0"
    else:
        why = (
            f"the 99th percentile {qx[4]:.4g} is at most 100 and the range "
            f"{qx[5] - qx[0]:.4g} is at most 50 or the lower quartile {qx[1]:.4g} is <= 0"
        )
    verdict = "log2 taken (values <= 0 set to NaN)" if transform else "already log scale"
    return Log2Decision(
        transform, mode, qx, f"GEO2R rule: {verdict}: {why} (quantiles 0/25/50/75/99/100%: {shown})"
    )


def apply_log2(frame: pd.DataFrame, decision: Log2Decision) -> pd.DataFrame:
    """log2 of ``frame`` with values <= 0 as NaN when ``decision.transform``; else a copy."""
    if not decision.transform:
        return frame.astype(np.float64, copy=True)
    x = frame.to_numpy(dtype=np.float64, copy=True)
    with np.errstate(invalid="ignore"):
        x[x <= 0] = np.nan
    return pd.DataFrame(np.log2(x), index=frame.index, columns=frame.columns)


def normalize_quantiles(frame: pd.DataFrame) -> pd.DataFrame:
    """Between-array quantile normalization as limma's ``normalizeQuantiles``.

    The frame version of :func:`sigrestore.platforms.normalize.normalize_quantiles`
    (missing values stay missing; each array's observed values are placed on
    the common target by their rank).
    """
    values = limma_normalize_quantiles(frame.to_numpy(dtype=np.float64))
    return pd.DataFrame(values, index=frame.index, columns=frame.columns)
