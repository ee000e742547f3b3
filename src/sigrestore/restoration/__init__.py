"""Signature restoration: what fraction of a reference signature a contrast restores.

The public API; see ``docs/restoration.md`` for the definitions.

The names are imported on first use: the config layer needs only the
settings classes of :mod:`sigrestore.restoration.spec`, and every workflow
job resolves the config at parse time, so importing this package must not
load scipy and statsmodels (about a second per job).
"""

from __future__ import annotations

from sigrestore._lazy import lazy_getattr

#: Exported name -> submodule that defines it.
_EXPORTS = {
    "SUMMARY_COLUMNS": "analysis",
    "RestorationResult": "analysis",
    "analyze_comparison": "analysis",
    "write_result": "analysis",
    "accepts_weights": "bootstrap",
    "bootstrap_fraction": "bootstrap",
    "resample_arrays": "bootstrap",
    "resample_distinct": "bootstrap",
    "sample_groups": "bootstrap",
    "classify_signature": "calls",
    "comparison_calls": "calls",
    "direction_calls": "calls",
    "modulator_flags": "calls",
    "resistance_status": "calls",
    "restoration_status": "calls",
    "signature_calls": "calls",
    "status_counts": "calls",
    "combine_scores": "connectivity",
    "connectivity_score": "connectivity",
    "CorrectedEstimate": "corrected",
    "corrected_columns": "corrected",
    "corrected_fraction": "corrected",
    "signature_false_share": "corrected",
    "headline_sentence": "headline",
    "headline_table": "headline",
    "pi0_convest": "pi0",
    "pi0_local_fdr": "pi0",
    "pi0_storey": "pi0",
    "SENSITIVITY_COLUMNS": "sensitivity",
    "threshold_sensitivity": "sensitivity",
    "BOOTSTRAP_DUPLICATES": "spec",
    "LEVELS": "spec",
    "BootstrapSettings": "spec",
    "CallThresholds": "spec",
    "ComparisonSpec": "spec",
    "ConnectivitySettings": "spec",
    "CorrectedSettings": "spec",
    "SensitivityGrid": "spec",
    "SignatureThresholds": "spec",
    "hypergeometric_test": "statistics",
    "percentile_interval": "statistics",
    "restoration_slope": "statistics",
    "spearman_correlation": "statistics",
    "wilson_interval": "statistics",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
