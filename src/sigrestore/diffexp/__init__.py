"""Differential expression with limma's moderated statistics.

Designs from the sample sheet (:func:`build_design`), contrasts from
expressions over group names (:func:`make_contrasts`), linear models with
empirical-Bayes moderation, TREAT and the moderated F (:func:`fit_contrasts`,
:class:`DEFit`; optional per-array precision ``weights=``), and the one-call
:func:`differential_expression` used by the pipeline and the restoration
bootstrap.
"""

from sigrestore.diffexp.contrasts import contrast_groups, make_contrasts
from sigrestore.diffexp.design import Design, build_design, sanitize_name
from sigrestore.diffexp.dupcor import duplicate_correlation
from sigrestore.diffexp.filtering import (
    ExpressionFilter,
    FilterSummary,
    filter_expressed,
    filter_probe_sets,
)
from sigrestore.diffexp.fit import DEFit, bh_adjust, differential_expression, fit_contrasts
from sigrestore.diffexp.options import DESettings, DesignSpec, LimmaOptions

__all__ = [
    "DEFit",
    "DESettings",
    "Design",
    "DesignSpec",
    "ExpressionFilter",
    "FilterSummary",
    "LimmaOptions",
    "bh_adjust",
    "build_design",
    "contrast_groups",
    "differential_expression",
    "duplicate_correlation",
    "filter_expressed",
    "filter_probe_sets",
    "fit_contrasts",
    "make_contrasts",
    "sanitize_name",
]
