"""The synthetic chip: layout geometry and realistic, reproducible intensities."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sigrestore.io import read_cdf, read_cel, write_cdf, write_cel
from sigrestore.simulate import iter_arrays, make_layout, synthesize_arrays
from sigrestore.simulate.chip import SCANNER_MAX, SCANNER_MIN


def test_hg_u133a_like_dimensions() -> None:
    cdf = make_layout(22283)
    assert (cdf.rows, cdf.cols) == (712, 712)
    assert len(cdf.pm_index) == len(cdf.mm_index) == 22283 * 11


def test_layout_geometry() -> None:
    cdf = make_layout(300, probes_per_set=11, control_probesets=12, chip_type="X", seed=3)
    assert cdf.probeset_names[:12] == [f"AFFX-SIM-{k:04d}_at" for k in range(1, 13)]
    assert len(set(cdf.probeset_names)) == 300
    assert cdf.rows % 2 == 0
    # MM directly below its PM: same column, next row.
    np.testing.assert_array_equal(cdf.mm_index - cdf.pm_index, cdf.cols)
    assert np.all((cdf.pm_index // cdf.cols) % 2 == 0)
    cells = np.concatenate([cdf.pm_index, cdf.mm_index])
    assert len(np.unique(cells)) == len(cells)
    assert cells.max() < cdf.rows * cdf.cols
    np.testing.assert_array_equal(np.diff(cdf.pm_offsets), 11)
    # Seeded: same seed, same layout; another seed, another placement.
    again = make_layout(300, probes_per_set=11, control_probesets=12, chip_type="X", seed=3)
    np.testing.assert_array_equal(again.pm_index, cdf.pm_index)
    assert not np.array_equal(make_layout(300, seed=4).pm_index, make_layout(300, seed=3).pm_index)


def test_layout_too_small() -> None:
    with pytest.raises(ValueError, match="holds"):
        make_layout(100, rows=10, cols=10)


def test_intensities_are_realistic() -> None:
    cdf = make_layout(2000, seed=1)
    rng = np.random.default_rng(5)
    expr = rng.uniform(3, 14, cdf.n_probesets)[:, None] + rng.normal(0, 0.1, (cdf.n_probesets, 4))
    arrays = synthesize_arrays(cdf, expr, seed=2, names=["a", "b", "c", "d"])
    assert [a.header["Name"] for a in arrays] == ["a", "b", "c", "d"]
    stack = np.stack([a.intensity for a in arrays])
    assert stack.min() >= SCANNER_MIN and stack.max() <= SCANNER_MAX
    pm, mm = stack[:, cdf.pm_index], stack[:, cdf.mm_index]
    assert np.median(mm / pm) < 0.8  # MM carries a fraction of the PM signal
    # Probe affinities are shared: PM profiles of two arrays correlate strongly.
    assert np.corrcoef(np.log2(pm[0]), np.log2(pm[1]))[0, 1] > 0.9
    # Expression drives PM: the probe-set median follows the truth.
    ps = np.repeat(np.arange(cdf.n_probesets), 11)
    med = np.array([np.median(np.log2(pm[0][ps == g])) for g in range(0, 2000, 50)])
    assert np.corrcoef(med, expr[::50, 0])[0, 1] > 0.9
    for a in arrays:
        assert a.stdev.min() >= 0 and np.isfinite(a.stdev).all()
        assert set(np.unique(a.npixels)) <= {16, 20, 25}


def test_reproducible_and_chunkable() -> None:
    cdf = make_layout(500, seed=0)
    expr = np.random.default_rng(0).uniform(4, 12, (500, 5))
    full = synthesize_arrays(cdf, expr, seed=9)
    again = synthesize_arrays(cdf, expr, seed=9)
    tail = list(iter_arrays(cdf, expr[:, 3:], seed=9, first_index=3))
    for a, b in zip(full, again, strict=True):
        np.testing.assert_array_equal(a.intensity, b.intensity)
    for a, b in zip(full[3:], tail, strict=True):
        np.testing.assert_array_equal(a.intensity, b.intensity)
    other = synthesize_arrays(cdf, expr, seed=10)
    assert not np.array_equal(other[0].intensity, full[0].intensity)


def test_bad_expression_shape() -> None:
    cdf = make_layout(50)
    with pytest.raises(ValueError, match="rows"):
        synthesize_arrays(cdf, np.zeros((49, 2)))
    with pytest.raises(ValueError, match="finite"):
        synthesize_arrays(cdf, np.full((50, 1), np.nan))


@pytest.mark.parametrize("fmt", ["text-v3", "xda-v4", "calvin"])
def test_simulated_files_round_trip(tmp_path: Path, fmt: str) -> None:
    cdf = make_layout(200, chip_type="SIMSMALL", control_probesets=5)
    write_cdf(tmp_path / "SIMSMALL.CDF", cdf)
    back = read_cdf(tmp_path / "SIMSMALL.CDF")
    assert back.probeset_names == cdf.probeset_names
    np.testing.assert_array_equal(back.pm_index, cdf.pm_index)
    np.testing.assert_array_equal(back.mm_index, cdf.mm_index)
    (arr,) = synthesize_arrays(cdf, np.full((200, 1), 8.0))
    write_cel(tmp_path / "a.CEL.gz", arr, format=fmt)
    cel = read_cel(tmp_path / "a.CEL.gz")
    assert cel.chip_type == "SIMSMALL"
    expected = arr.intensity if fmt == "text-v3" else arr.intensity.astype(np.float32)
    np.testing.assert_array_equal(cel.intensity, expected)
