"""Signature restoration: what fraction of a reference signature a contrast restores.

The public API; see ``docs/restoration.md`` for the definitions.
"""

from sigrestore.restoration.analysis import (
    SUMMARY_COLUMNS,
    RestorationResult,
    analyze_comparison,
    write_result,
)
from sigrestore.restoration.bootstrap import (
    accepts_weights,
    bootstrap_fraction,
    resample_arrays,
    resample_distinct,
    sample_groups,
)
from sigrestore.restoration.calls import (
    classify_signature,
    comparison_calls,
    direction_calls,
    modulator_flags,
    resistance_status,
    restoration_status,
    signature_calls,
    status_counts,
)
from sigrestore.restoration.connectivity import combine_scores, connectivity_score
from sigrestore.restoration.spec import (
    BOOTSTRAP_DUPLICATES,
    LEVELS,
    BootstrapSettings,
    CallThresholds,
    ComparisonSpec,
    ConnectivitySettings,
    SignatureThresholds,
)
from sigrestore.restoration.statistics import (
    hypergeometric_test,
    percentile_interval,
    restoration_slope,
    spearman_correlation,
    wilson_interval,
)

__all__ = [
    "BOOTSTRAP_DUPLICATES",
    "LEVELS",
    "SUMMARY_COLUMNS",
    "BootstrapSettings",
    "CallThresholds",
    "ComparisonSpec",
    "ConnectivitySettings",
    "RestorationResult",
    "SignatureThresholds",
    "accepts_weights",
    "analyze_comparison",
    "bootstrap_fraction",
    "classify_signature",
    "combine_scores",
    "comparison_calls",
    "connectivity_score",
    "direction_calls",
    "hypergeometric_test",
    "modulator_flags",
    "percentile_interval",
    "resample_arrays",
    "resample_distinct",
    "resistance_status",
    "restoration_slope",
    "restoration_status",
    "sample_groups",
    "signature_calls",
    "spearman_correlation",
    "status_counts",
    "wilson_interval",
    "write_result",
]
