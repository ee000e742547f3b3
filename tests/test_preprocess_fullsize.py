"""RMA on full-size (HG-U133A-shaped) arrays written by the package's own writers.

The arrays are regenerated here from a fixed seed, written with ``write_cel`` /
``write_cdf`` and read back, so nothing large is committed.  The reference
numbers are ``exprs(affy::rma(ReadAffy(...)))`` computed once by R on exactly
these files (``tests/data/rma/README.md`` has the commands); the file
checksums prove the regenerated inputs are the ones R saw.

Run ``python tests/test_preprocess_fullsize.py OUTDIR`` to write the files.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.io import read_cdf, write_cdf, write_cel
from sigrestore.io.models import CdfData, CelData

ROWS = COLS = 712
N_SETS = 22283
K = 11
N_ARRAYS = 6
SEED = 20261121
CHIP = "SRTestU133"
REF_DIR = Path(__file__).parent / "data" / "rma"


def _probeset_names(rng: np.random.Generator) -> list[str]:
    """HG-U133A-like names, mixed case and punctuation (to exercise R's sort order)."""
    controls = [
        "AFFX-BioB-5_at",
        "AFFX-BioB-M_at",
        "AFFX-BioB-3_at",
        "AFFX-BioC-5_at",
        "AFFX-BioDn-3_at",
        "AFFX-CreX-5_at",
        "AFFX-DapX-3_at",
        "AFFX-LysX-5_at",
        "AFFX-HUMISGF3A/M97935_5_at",
        "AFFX-HUMGAPDH/M33197_3_at",
        "AFFX-hum_alu_at",
        "AFFX-M27830_5_at",
        "AFFX-r2-Bs-dap-5_at",
        "AFFX-r2-Ec-bioB-3_at",
        "AFFX-TrpnX-M_at",
        "AFFX-ThrX-3_at",
        "AFFX_ratb1/X12957_at",
        "AFFX-PheX-5_at",
    ]
    suffixes = np.array(["_at", "_s_at", "_x_at", "_at", "_at"])
    n = N_SETS - len(controls)
    ids = 200000 + rng.choice(23000, size=n, replace=False)
    ids[: n // 20] = rng.choice(np.arange(1000, 9999), size=n // 20, replace=False)
    names = [f"{i}{s}" for i, s in zip(ids, rng.choice(suffixes, size=n), strict=True)]
    return names + controls


def make_layout(rng: np.random.Generator) -> CdfData:
    """22,283 probe sets x 11 PM/MM pairs on 712 x 712; MM sits one row below its PM."""
    # PM cells on even rows, MM directly below (y + 1), as on real 3' arrays.
    slots = rng.choice((ROWS // 2) * COLS, size=N_SETS * K, replace=False)
    y = 2 * (slots // COLS)
    x = slots % COLS
    pm = (y * COLS + x).astype(np.int64)
    mm = pm + COLS
    offsets = np.arange(N_SETS + 1, dtype=np.int64) * K
    return CdfData(CHIP, ROWS, COLS, _probeset_names(rng), pm, offsets, mm, offsets.copy())


def make_arrays(cdf: CdfData, rng: np.random.Generator) -> list[CelData]:
    """Background + probe effect + expression + noise; intensities rounded to 0.1."""
    log2_expr = np.where(
        rng.random(N_SETS) < 0.4, rng.normal(5, 1, N_SETS), rng.normal(8, 2, N_SETS)
    )
    probe = rng.normal(0, 0.8, (N_SETS, K))
    arrays = []
    for j in range(N_ARRAYS):
        shift = rng.normal(0, 0.3)
        group = 1.0 if j >= N_ARRAYS // 2 else 0.0
        de = np.where(np.arange(N_SETS) % 50 == 0, group * 1.5, 0.0)
        signal = np.exp2(
            log2_expr[:, None] + de[:, None] + probe + shift + rng.normal(0, 0.2, (N_SETS, K))
        )
        bg = rng.normal(90 + 10 * j, 12, ROWS * COLS)
        cells = np.abs(bg) + 10
        cells[cdf.pm_index] += signal.ravel()
        cells[cdf.mm_index] += 0.4 * signal.ravel()
        cells = np.minimum(np.round(cells, 1), 46000.0)
        sd = np.round(0.1 * cells, 1)
        arrays.append(
            CelData(
                path="",
                format="text-v3",
                chip_type=CHIP,
                rows=ROWS,
                cols=COLS,
                intensity=cells,
                stdev=sd,
                npixels=np.full(cells.size, 16, dtype=np.int32),
            )
        )
    return arrays


def write_inputs(outdir: Path) -> tuple[Path, list[Path]]:
    """Regenerate and write the CDF and CEL files; return their paths."""
    rng = np.random.default_rng(SEED)
    cdf = make_layout(rng)
    outdir.mkdir(parents=True, exist_ok=True)
    cdf_path = outdir / f"{CHIP}.CDF"
    write_cdf(cdf_path, cdf)
    paths = []
    for j, arr in enumerate(make_arrays(cdf, rng)):
        # Binary XDA: affyio cannot read the full header of our text-v3 CELs
        # (it wants GridCorner* lines), and R must read exactly these files.
        p = outdir / f"sim{j + 1}.CEL"
        write_cel(p, arr, format="xda-v4")
        paths.append(p)
    return cdf_path, paths


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_inputs(tmp_path_factory.mktemp("fullsize"))


def test_regenerated_inputs_are_the_ones_r_saw(inputs):
    meta = json.loads((REF_DIR / "fullsize_inputs.json").read_text())
    cdf_path, cels = inputs
    got = {p.name: sha256(p) for p in [cdf_path, *cels]}
    assert got == meta["sha256"], (
        "the generator or the CEL/CDF writers changed: regenerate the R reference with the "
        "commands in tests/data/rma/README.md"
    )


def test_fullsize_rma_matches_r(inputs):
    from sigrestore.preprocess import rma

    cdf_path, cels = inputs
    ref = pd.read_csv(REF_DIR / "fullsize_rma_reference.tsv.gz", sep="\t", index_col=0)
    expr = rma(cels, read_cdf(cdf_path))
    assert expr.shape == (N_SETS, N_ARRAYS)
    assert list(expr.columns) == list(ref.columns[1:])
    # R's probe-set order: the committed subset keeps R's row positions.
    positions = ref["position"].to_numpy()
    assert list(expr.index[positions]) == list(ref.index)
    got = expr.iloc[positions].to_numpy()
    want = ref.drop(columns="position").to_numpy()
    assert np.max(np.abs(got - want)) < 1e-4
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


if __name__ == "__main__":
    cdf_file, cel_files = write_inputs(Path(sys.argv[1]))
    print(json.dumps({p.name: sha256(p) for p in [cdf_file, *cel_files]}, indent=1))
