"""RNA-seq counts: readers, edgeR's filter and TMM normalisation, limma's voom.

The statistics equal R's (edgeR 3.40, limma 3.54; tests/counts checks them
against references made by tests/data/counts/make/make_references.R):
:func:`filter_by_expr`, :func:`calc_norm_factors`, :func:`voom`,
:func:`voom_with_quality_weights` and R's :func:`lowess`.  The resulting
log-CPM and observation weights go through the project's limma path
(:func:`sigrestore.diffexp.differential_expression` with a weights matrix).
"""

from sigrestore.counts.lowess import Lowess, approx_ordered_mean, lowess
from sigrestore.counts.normalize import calc_norm_factors, cpm, filter_by_expr
from sigrestore.counts.readers import COUNT_FORMATS, CountTable, detect_format, read_count_table
from sigrestore.counts.voom import VoomResult, log_cpm, voom, voom_with_quality_weights

__all__ = [
    "COUNT_FORMATS",
    "CountTable",
    "Lowess",
    "VoomResult",
    "approx_ordered_mean",
    "calc_norm_factors",
    "cpm",
    "detect_format",
    "filter_by_expr",
    "log_cpm",
    "lowess",
    "read_count_table",
    "voom",
    "voom_with_quality_weights",
]
