"""Constants and comparison helpers of the count-path R-reference tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CONTRASTS = {
    "fulvestrant_sensitive": "sensitive_fulvestrant - sensitive_vehicle",
    "fulvestrant_resistant": "resistant_fulvestrant - resistant_vehicle",
    "cotreatment_resistant": "resistant_fulvestrant_rapamycin - resistant_vehicle",
}
FACTORS = ["cell_line", "treatment"]


def read_ref(counts_dir: Path, name: str, **kw) -> pd.DataFrame:
    return pd.read_csv(counts_dir / name, sep="\t", **kw)


def max_rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300)))
