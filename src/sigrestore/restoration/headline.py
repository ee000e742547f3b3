"""The one-sentence result of a comparison, as the report opens with it."""

from __future__ import annotations

import math

import pandas as pd

#: Columns of ``headline.tsv``, in order.
HEADLINE_COLUMNS = (
    "comparison",
    "signature_size",
    "restored_fraction_corrected",
    "corrected_low",
    "corrected_high",
    "confidence",
    "restored_fraction",
    "restoration_fdr",
    "slope",
    "sentence",
)


def _pct(x: float) -> str:
    return "NA" if not math.isfinite(x) else f"{100 * x:.0f}%"


def headline_sentence(row: pd.Series) -> str:
    """The sentence of one summary row (a row of ``summary.tsv``).

    "The cotreatment restores X% (95% CI a-b) of the N-gene reference
    signature after correcting for power; Y% are called restored at FDR q;
    the restored share of the effect size is Z."  A corrected fraction that
    is NA says so and why (``corrected_note``).
    """
    conf = float(row["confidence"])
    # "300-gene" or "300-probe-set" signature; "feature" when the level is unknown.
    noun = {"gene": "gene", "probeset": "probe-set"}.get(str(row.get("level", "")), "feature")
    n = f"{int(row['signature_size'])}-{noun}"
    corrected = float(row["restored_fraction_corrected"])
    low, high = float(row["corrected_low"]), float(row["corrected_high"])
    if math.isfinite(corrected):
        interval = (
            f" ({conf:.0%} CI {_pct(low)}-{_pct(high)})"
            if math.isfinite(low) and math.isfinite(high)
            else ""
        )
        first = (
            f"The cotreatment restores {_pct(corrected)}{interval} of the {n}"
            " reference signature after correcting for power"
        )
    else:
        note = str(row.get("corrected_note", "") or "not estimable")
        first = (
            f"The power-corrected restored fraction of the {n} reference signature is NA ({note})"
        )
    slope = float(row["slope"])
    effect = f"{slope:.2f}" if math.isfinite(slope) else "NA"
    return (
        f"{first}; {_pct(float(row['restored_fraction']))} are called restored at FDR"
        f" {float(row['restoration_fdr']):g}; the restored share of the effect size"
        f" (slope) is {effect}."
    )


def headline_table(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison of ``summary``: the headline numbers and the sentence."""
    rows = []
    for name, row in summary.iterrows():
        rows.append(
            {
                "comparison": name,
                **{k: row[k] for k in HEADLINE_COLUMNS[1:-1]},
                "sentence": headline_sentence(row),
            }
        )
    return pd.DataFrame(rows, columns=list(HEADLINE_COLUMNS))
