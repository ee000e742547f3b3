"""Differential expression with limma's moderated statistics.

Designs from the sample sheet (:func:`build_design`), contrasts from
expressions over group names (:func:`make_contrasts`), linear models with
empirical-Bayes moderation, TREAT and the moderated F (:func:`fit_contrasts`,
:class:`DEFit`; optional per-array precision ``weights=``), and the one-call
:func:`differential_expression` used by the pipeline and the restoration
bootstrap.
"""

from sigrestore.diffexp.checks import DesignCheck, check_design, group_sizes
from sigrestore.diffexp.contrasts import make_contrasts
from sigrestore.diffexp.design import Covariate, Design, build_design, sanitize_name
from sigrestore.diffexp.dupcor import duplicate_correlation
from sigrestore.diffexp.filtering import filter_expressed
from sigrestore.diffexp.fit import DEFit, bh_adjust, differential_expression, fit_contrasts

__all__ = [
    "Covariate",
    "DEFit",
    "Design",
    "DesignCheck",
    "bh_adjust",
    "build_design",
    "check_design",
    "differential_expression",
    "duplicate_correlation",
    "filter_expressed",
    "fit_contrasts",
    "group_sizes",
    "make_contrasts",
    "sanitize_name",
]
