"""Threshold sensitivity: the fractions over a grid of signature and call thresholds.

Everything is recomputed from the comparison's limma tables (no refit): for
every signature threshold pair (``adj.P.Val < fdr`` and ``|logFC| >= lfc`` in
the reference contrast, method "threshold") the signature S, its size, its
corrected fraction (which does not depend on the restoration calls), and for
every restoration-call FDR the count fraction.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd

from sigrestore.restoration.calls import direction_calls, fraction, signature_calls
from sigrestore.restoration.corrected import (
    corrected_fraction,
    restoration_df,
    signature_false_share,
)
from sigrestore.restoration.spec import ComparisonSpec, SignatureThresholds

#: Columns of ``threshold_sensitivity.tsv``, in order.
SENSITIVITY_COLUMNS = (
    "signature_fdr",
    "signature_lfc",
    "restoration_fdr",
    "signature_size",
    "restored",
    "restored_fraction",
    "restored_fraction_corrected",
    "configured",
)


def threshold_sensitivity(
    reference: pd.DataFrame, restoration: pd.DataFrame, spec: ComparisonSpec
) -> pd.DataFrame:
    """The fractions over ``spec.sensitivity``'s grid.

    Parameters
    ----------
    reference, restoration : DataFrame
        The two contrasts' limma tables (``logFC``, ``t``, ``P.Value``,
        ``adj.P.Val``); the restoration table is aligned to the reference's features.
    spec : ComparisonSpec
        Its ``sensitivity`` grid, the restoration call's ``lfc`` and the
        corrected fraction's settings (no interval is computed here).

    Returns
    -------
    DataFrame with :data:`SENSITIVITY_COLUMNS`: one row per signature fdr x
    lfc x restoration fdr.  ``configured`` marks the row of the comparison's
    own thresholds (when its signature method is "threshold" and the
    thresholds are on the grid).  A fraction is NaN when S is empty; the
    corrected one also when S has fewer than ``corrected.min_features``
    features.
    """
    grid = spec.sensitivity
    restoration = restoration.reindex(reference.index)
    # Point estimates only: the grid is for reading robustness, not intervals.
    settings = dataclasses.replace(spec.corrected, resamples=0)
    calls = {
        fdr: direction_calls(restoration, fdr=fdr, lfc=spec.restoration_call.lfc).to_numpy()
        for fdr in grid.restoration_fdr
    }
    # The power model's df: one per restoration contrast, not per grid cell.
    df = restoration_df(restoration) if settings.power_correction == "share_model" else None
    rows = []
    for sig_fdr, sig_lfc in itertools.product(grid.signature_fdr, grid.signature_lfc):
        thresholds = SignatureThresholds(fdr=sig_fdr, lfc=sig_lfc, method="threshold")
        sig = signature_calls(reference, fdr=sig_fdr, lfc=sig_lfc).to_numpy()
        members = sig != 0
        size = int(members.sum())
        direction = pd.Series(sig[members], index=reference.index[members])
        corrected = float("nan")
        if size:
            false_share = signature_false_share(
                reference, thresholds, size, pi0_method=settings.pi0_method
            )
            corrected = corrected_fraction(
                restoration,
                direction,
                false_share=false_share,
                settings=settings,
                reference=reference,
                df=df,
            ).estimate
        for res_fdr in grid.restoration_fdr:
            restored = int((calls[res_fdr][members] == sig[members]).sum())
            rows.append(
                {
                    "signature_fdr": sig_fdr,
                    "signature_lfc": sig_lfc,
                    "restoration_fdr": res_fdr,
                    "signature_size": size,
                    "restored": restored,
                    "restored_fraction": fraction(restored, size),
                    "restored_fraction_corrected": corrected,
                    "configured": bool(
                        spec.signature.method == "threshold"
                        and np.isclose(sig_fdr, spec.signature.fdr)
                        and np.isclose(sig_lfc, spec.signature.lfc)
                        and np.isclose(res_fdr, spec.restoration_call.fdr)
                    ),
                }
            )
    return pd.DataFrame(rows, columns=list(SENSITIVITY_COLUMNS))
