"""Differential expression with limma's moderated statistics.

Designs from the sample sheet (:func:`build_design`), contrasts from
expressions over group names (:func:`make_contrasts`), linear models with
empirical-Bayes moderation, TREAT and the moderated F (:func:`fit_contrasts`,
:class:`DEFit`; optional per-array precision ``weights=``), and the one-call
:func:`differential_expression` used by the pipeline and the restoration
bootstrap.

The names are imported on first use: the config layer needs only the
settings classes (:class:`DESettings`, :class:`ExpressionFilter`), and every
workflow job resolves the config at parse time, so importing this package
must not load pylimma, scipy and statsmodels (over a second per job).
"""

from __future__ import annotations

from sigrestore._lazy import lazy_getattr

#: Exported name -> submodule that defines it.
_EXPORTS = {
    "DesignCheck": "checks",
    "check_design": "checks",
    "group_sizes": "checks",
    "contrast_groups": "contrasts",
    "make_contrasts": "contrasts",
    "Covariate": "design",
    "Design": "design",
    "build_design": "design",
    "sanitize_name": "design",
    "duplicate_correlation": "dupcor",
    "ExpressionFilter": "filtering",
    "FilterSummary": "filtering",
    "filter_expressed": "filtering",
    "filter_probe_sets": "filtering",
    "DEFit": "fit",
    "bh_adjust": "fit",
    "differential_expression": "fit",
    "fit_contrasts": "fit",
    "DESettings": "options",
    "DesignSpec": "options",
    "LimmaOptions": "options",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
