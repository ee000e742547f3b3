"""Write the non-square (20 rows x 34 cols) fixtures of tests/data/affymetrix/skew/.

Run: python tests/data/affymetrix/make/make_skew.py tests/data/affymetrix/skew
then: Rscript tests/data/affymetrix/make/skew_refs.R tests/data/affymetrix/skew
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sigrestore.io import CdfData, CelData, write_cdf, write_cel

out = Path(sys.argv[1])
rows, cols = 20, 34
n = rows * cols
# Cell k has intensity k + 1 (whole numbers: exact in float32), so the value
# read at (x, y) tells which cell index a reader assigned to it.
cel = CelData(
    path="",
    format="",
    chip_type="Skew",
    rows=rows,
    cols=cols,
    intensity=np.arange(1, n + 1, dtype=np.float64),
    stdev=np.full(n, 2.5),
    npixels=np.full(n, 25, dtype=np.int32),
)
write_cel(out / "Skew.xda.CEL", cel, format="xda-v4")
# One probe set per row: PM in the row's last column, MM in its first.
pm = np.arange(rows, dtype=np.int64) * cols + (cols - 1)
mm = np.arange(rows, dtype=np.int64) * cols
offsets = np.arange(0, rows + 1, 2, dtype=np.int64)
cdf = CdfData(
    chip_type="Skew",
    rows=rows,
    cols=cols,
    probeset_names=[f"ps{k}_at" for k in range(len(offsets) - 1)],
    pm_index=pm,
    pm_offsets=offsets,
    mm_index=mm,
    mm_offsets=offsets,
)
write_cdf(out / "Skew.xda.CDF", cdf, format="xda")
