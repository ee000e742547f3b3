"""Write DupMasks.v3.CEL: a 4 x 5 text CEL whose [MASKS] lists a cell three times.

Run: python tests/data/affymetrix/make/make_dup_masks.py tests/data/affymetrix/dup_masks
then: Rscript tests/data/affymetrix/make/dup_masks.R tests/data/affymetrix/dup_masks
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sigrestore.io.cel_common import make_dat_header
from sigrestore.io.cel_text import encode_text

out = Path(sys.argv[1])
rows, cols = 4, 5
n = rows * cols
values = np.arange(1, n + 1, dtype=np.float64) * 10.5
raw = encode_text(
    rows=rows,
    cols=cols,
    header={"DatHeader": make_dat_header("DupMasks", rows=rows, cols=cols)},
    intensity=values,
    stdev=values / 10,
    npixels=np.full(n, 25),
    # (1, 2) three times, (3, 0) once: 4 entries, 2 distinct cells.
    masks_xy=np.array([[1, 2], [1, 2], [3, 0], [1, 2]]),
    # (0, 3) twice: 2 entries, 1 cell.
    outliers_xy=np.array([[0, 3], [0, 3]]),
)
(out / "DupMasks.v3.CEL").write_bytes(raw)
