"""RMA preprocessing of Affymetrix arrays and array-quality metrics.

Public API: :func:`rma_background`, :func:`quantile_normalize`,
:func:`median_polish_summarize`, :func:`rma`, :func:`run_rma` /
:class:`RmaResult`, and the sort key :func:`r_sort_key` giving R's probe-set order.
"""

from __future__ import annotations

from .background import BackgroundParams, density_mode, rma_background
from .ordering import r_sort_key, r_sorted
from .qc import ResidualImages
from .quantile import QuantileAccumulator, quantile_normalize
from .rma import RmaResult, rma, run_rma
from .summarize import median_polish_summarize

__all__ = [
    "BackgroundParams",
    "QuantileAccumulator",
    "ResidualImages",
    "RmaResult",
    "density_mode",
    "median_polish_summarize",
    "quantile_normalize",
    "r_sort_key",
    "r_sorted",
    "rma",
    "rma_background",
    "run_rma",
]
