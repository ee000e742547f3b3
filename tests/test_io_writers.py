"""Writers: field ranges, non-square arrays, exact and byte-stable text output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sigrestore.io import CdfData, CelData, read_cdf, read_cel, write_cdf, write_cel
from sigrestore.io.cdf_xda import encode_xda_cdf
from sigrestore.io.cel_text import _fmt, encode_text

CEL_FORMATS = ["text-v3", "xda-v4", "calvin"]


def _cel(rows: int, cols: int, *, seed: int = 0, **changes) -> CelData:
    rng = np.random.default_rng(seed)
    n = rows * cols
    fields = dict(
        path="",
        format="x",
        chip_type="Skew",
        rows=rows,
        cols=cols,
        # float32-valued, so every format (XDA and Calvin store float32) is exact.
        intensity=rng.uniform(20, 20000, n).astype(np.float32).astype(np.float64),
        stdev=rng.uniform(1, 900, n).astype(np.float32).astype(np.float64),
        npixels=rng.integers(9, 36, n).astype(np.int32),
        masks=np.array([1, cols + 2, n - 1], dtype=np.int64),
        outliers=np.array([0, cols - 1, (rows - 1) * cols], dtype=np.int64),
    )
    fields.update(changes)
    return CelData(**fields)


# ------------------------------------------------------------- non-square arrays
@pytest.mark.parametrize("fmt", CEL_FORMATS)
@pytest.mark.parametrize(("rows", "cols"), [(20, 34), (34, 20)])
def test_non_square_cel_round_trip(fmt: str, rows: int, cols: int, tmp_path: Path) -> None:
    src = _cel(rows, cols)
    write_cel(tmp_path / "s.CEL", src, format=fmt)
    back = read_cel(tmp_path / "s.CEL")
    assert (back.rows, back.cols) == (rows, cols)
    for field in ("intensity", "stdev", "npixels", "masks", "outliers"):
        np.testing.assert_array_equal(getattr(back, field), getattr(src, field), err_msg=field)
    # The corner cells (distinct under a rows/cols swap) are where they belong.
    grid = back.intensity.reshape(rows, cols)
    assert grid[0, cols - 1] == src.intensity[cols - 1]
    assert grid[rows - 1, 0] == src.intensity[(rows - 1) * cols]


def _skew_cdf(rows: int, cols: int) -> CdfData:
    """Probe sets of one PM/MM pair per row, the PM in the row's last column."""
    pm = np.arange(rows, dtype=np.int64) * cols + (cols - 1)
    mm = np.arange(rows, dtype=np.int64) * cols
    offsets = np.arange(0, rows + 1, 2, dtype=np.int64)  # two pairs per probe set
    return CdfData(
        chip_type="Skew",
        rows=rows,
        cols=cols,
        probeset_names=[f"ps{k}_at" for k in range(len(offsets) - 1)],
        pm_index=pm,
        pm_offsets=offsets,
        mm_index=mm,
        mm_offsets=offsets,
    )


@pytest.mark.parametrize("fmt", ["ascii", "xda"])
@pytest.mark.parametrize(("rows", "cols"), [(20, 34), (34, 20)])
def test_non_square_cdf_round_trip(fmt: str, rows: int, cols: int, tmp_path: Path) -> None:
    src = _skew_cdf(rows, cols)
    out = tmp_path / "Skew.CDF"
    write_cdf(out, src, format=fmt)
    back = read_cdf(out)
    assert (back.rows, back.cols) == (rows, cols)
    assert back.probeset_names == src.probeset_names
    for field in ("pm_index", "pm_offsets", "mm_index", "mm_offsets"):
        np.testing.assert_array_equal(getattr(back, field), getattr(src, field), err_msg=field)


@pytest.mark.parametrize("version", [2, 3, 4])
def test_non_square_xda_cdf_versions(version: int, tmp_path: Path) -> None:
    src = _skew_cdf(20, 34)
    (tmp_path / "Skew.CDF").write_bytes(encode_xda_cdf(src, version=version))
    back = read_cdf(tmp_path / "Skew.CDF")
    np.testing.assert_array_equal(back.pm_index, src.pm_index)
    np.testing.assert_array_equal(back.mm_index, src.mm_index)


# ------------------------------------------------------------- int16 fields
@pytest.mark.parametrize("fmt", ["xda-v4", "calvin"])
def test_npixels_beyond_int16_is_refused(fmt: str, tmp_path: Path) -> None:
    src = _cel(4, 5)
    npixels = src.npixels.copy()
    npixels[3] = 40000
    bad = _cel(4, 5, npixels=npixels)
    with pytest.raises(ValueError, match=r"npixels.*int16"):
        write_cel(tmp_path / "x.CEL", bad, format=fmt)
    assert not (tmp_path / "x.CEL").exists()
    write_cel(tmp_path / "t.CEL", bad, format="text-v3")  # text has no such limit
    assert read_cel(tmp_path / "t.CEL").npixels[3] == 40000


@pytest.mark.parametrize("fmt", ["xda-v4", "calvin"])
@pytest.mark.parametrize("which", ["masks", "outliers"])
def test_coordinates_beyond_int16_are_refused(fmt: str, which: str, tmp_path: Path) -> None:
    # One row of 40,000 cells: the last cell's x is 39,999.
    other = "outliers" if which == "masks" else "masks"
    cel = _cel(
        1,
        40000,
        **{which: np.array([5, 39999], dtype=np.int64), other: np.array([7], dtype=np.int64)},
    )
    field = "mask_x" if which == "masks" else "outlier_x"
    with pytest.raises(ValueError, match=rf"{field}.*int16"):
        write_cel(tmp_path / "x.CEL", cel, format=fmt)
    write_cel(tmp_path / "t.CEL", cel, format="text-v3")
    np.testing.assert_array_equal(getattr(read_cel(tmp_path / "t.CEL"), which), [5, 39999])


def test_xda_cdf_long_name_is_refused() -> None:
    cdf = _skew_cdf(4, 6)
    long = CdfData(**{**cdf.__dict__, "probeset_names": ["a" * 65, "ok_at"]})
    with pytest.raises(ValueError, match="65 bytes"):
        encode_xda_cdf(long)
    exact = CdfData(**{**cdf.__dict__, "probeset_names": ["b" * 64, "ok_at"]})
    assert ("b" * 64).encode() in encode_xda_cdf(exact)


# ------------------------------------------------------------- text exactness
def _random_doubles(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    raw = bits.view(np.float64)
    return np.concatenate(
        [
            raw[np.isfinite(raw)],  # every magnitude, subnormals included
            rng.lognormal(7, 1.5, n),
            rng.uniform(0, 1e5, n).round(1),  # MAS5-like one-decimal values
            rng.uniform(0, 1e12, n // 10).round(1),
            10.0 ** rng.uniform(-300, 300, n // 10),
            [0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308],
            [1e15, 1e16, 999999999999.9, 1e12, 0.1, 0.05, 1e-4, 1e-5, 123456.75],
        ]
    )


def test_text_numbers_are_shortest_repr() -> None:
    values = _random_doubles(200_000, seed=11)
    text = _fmt(values)
    assert [t.decode() for t in text.tolist()] == [repr(v) for v in values.tolist()]
    back = np.array([float(t) for t in text.tolist()])
    np.testing.assert_array_equal(back.view(np.uint64), values.view(np.uint64))


def test_text_writer_is_exact_for_any_float64(tmp_path: Path) -> None:
    rows, cols = 60, 97
    n = rows * cols
    pool = np.abs(_random_doubles(n, seed=3))
    rng = np.random.default_rng(4)
    src = _cel(rows, cols, intensity=rng.choice(pool, n), stdev=rng.choice(pool, n))
    write_cel(tmp_path / "a.CEL", src)
    back = read_cel(tmp_path / "a.CEL")
    np.testing.assert_array_equal(back.intensity.view(np.uint64), src.intensity.view(np.uint64))
    np.testing.assert_array_equal(back.stdev.view(np.uint64), src.stdev.view(np.uint64))


def _reference_text(**kw) -> bytes:
    """The text writer's output built the obvious way, one Python string per line.

    The header lines are taken from the writer (they are not what is tested).
    """
    rows, cols = kw["rows"], kw["cols"]
    out = encode_text(**kw)
    head = out[: out.index(b"NPIXELS\n") + len(b"NPIXELS\n")]
    assert rows * cols == len(kw["intensity"])
    cells = [
        f"{i % cols}\t{i // cols}\t{a!r}\t{s!r}\t{p}"
        for i, (a, s, p) in enumerate(
            zip(kw["intensity"].tolist(), kw["stdev"].tolist(), kw["npixels"].tolist(), strict=True)
        )
    ]
    tail = []
    for section, xy in (("MASKS", kw["masks_xy"]), ("OUTLIERS", kw["outliers_xy"])):
        tail += ["", f"[{section}]", f"NumberCells={len(xy)}", "CellHeader=X\tY"]
        tail += [f"{x}\t{y}" for x, y in xy.tolist()]
    tail += ["", "[MODIFIED]", "NumberCells=0", "CellHeader=X\tY\tORIGMEAN", "", ""]
    return head + ("\n".join(cells) + "\n" + "\n".join(tail)).encode()


@pytest.mark.parametrize(("rows", "cols", "n_xy"), [(1, 1, 0), (20, 34, 3), (3, 70001, 2)])
def test_text_writer_bytes_match_line_by_line_reference(rows: int, cols: int, n_xy: int) -> None:
    rng = np.random.default_rng(rows)
    n = rows * cols
    pool = _random_doubles(1000, seed=rows)
    xy = np.column_stack([rng.integers(0, cols, n_xy), rng.integers(0, rows, n_xy)])
    kw = dict(
        rows=rows,
        cols=cols,
        header={"DatHeader": "x Skew.1sq"},
        intensity=np.concatenate(
            [rng.lognormal(7, 1, n // 2).round(1), rng.choice(pool, n - n // 2)]
        ),
        stdev=rng.choice(pool, n),
        npixels=rng.integers(0, 40000, n),
        masks_xy=xy,
        outliers_xy=xy[::-1],
    )
    assert encode_text(**kw) == _reference_text(**kw)


def test_text_writer_large_chip_is_deterministic() -> None:
    # More rows than one assembly chunk (65,536 lines).
    cel = _cel(300, 300, seed=9)
    kw = dict(
        rows=300,
        cols=300,
        header={},
        intensity=cel.intensity,
        stdev=cel.stdev,
        npixels=cel.npixels,
        masks_xy=np.zeros((0, 2), dtype=np.int64),
        outliers_xy=np.zeros((0, 2), dtype=np.int64),
    )
    first = encode_text(**kw)
    assert first == encode_text(**kw) == _reference_text(**kw)
    assert first.count(b"\n") > 90_000
