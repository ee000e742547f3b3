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
from sigrestore.restoration.corrected import (
    CorrectedEstimate,
    corrected_columns,
    corrected_fraction,
    signature_false_share,
)
from sigrestore.restoration.headline import headline_sentence, headline_table
from sigrestore.restoration.pi0 import pi0_convest, pi0_local_fdr, pi0_storey
from sigrestore.restoration.sensitivity import SENSITIVITY_COLUMNS, threshold_sensitivity
from sigrestore.restoration.spec import (
    BOOTSTRAP_DUPLICATES,
    LEVELS,
    BootstrapSettings,
    CallThresholds,
    ComparisonSpec,
    ConnectivitySettings,
    CorrectedSettings,
    SensitivityGrid,
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
    "SENSITIVITY_COLUMNS",
    "SUMMARY_COLUMNS",
    "BootstrapSettings",
    "CallThresholds",
    "ComparisonSpec",
    "ConnectivitySettings",
    "CorrectedEstimate",
    "CorrectedSettings",
    "RestorationResult",
    "SensitivityGrid",
    "SignatureThresholds",
    "accepts_weights",
    "analyze_comparison",
    "bootstrap_fraction",
    "classify_signature",
    "combine_scores",
    "comparison_calls",
    "connectivity_score",
    "corrected_columns",
    "corrected_fraction",
    "direction_calls",
    "headline_sentence",
    "headline_table",
    "hypergeometric_test",
    "modulator_flags",
    "percentile_interval",
    "pi0_convest",
    "pi0_local_fdr",
    "pi0_storey",
    "resample_arrays",
    "resample_distinct",
    "resistance_status",
    "restoration_slope",
    "restoration_status",
    "sample_groups",
    "signature_calls",
    "signature_false_share",
    "spearman_correlation",
    "status_counts",
    "threshold_sensitivity",
    "wilson_interval",
    "write_result",
]
