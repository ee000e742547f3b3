"""RMA stages against R (affy 1.76.0 / preprocessCore) on the Test3 arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sigrestore.errors import FormatError, SigrestoreError
from sigrestore.io.models import CdfData, CelData
from sigrestore.preprocess import (
    QuantileAccumulator,
    density_mode,
    median_polish_summarize,
    quantile_normalize,
    r_sorted,
    rma,
    rma_background,
    run_rma,
)
from sigrestore.preprocess.summarize import GroupingError, iter_size_blocks

ROWS = COLS = 126


@pytest.fixture(scope="module")
def steps(data_dir) -> pd.DataFrame:
    return pd.read_csv(data_dir / "rma" / "test3_rma_steps_reference.tsv.gz", sep="\t")


@pytest.fixture(scope="module")
def reference(data_dir) -> pd.DataFrame:
    return pd.read_csv(data_dir / "rma" / "test3_rma_reference.tsv", sep="\t", index_col=0)


def _cols(steps: pd.DataFrame, stem: str) -> np.ndarray:
    return steps[[f"{stem}_{k}" for k in (1, 2, 3)]].to_numpy()


@pytest.fixture(scope="module")
def layout(steps) -> CdfData:
    """The Test3 PM layout from the steps file, deliberately in reversed file order."""
    names = list(dict.fromkeys(steps["probeset"]))[::-1]
    groups = {name: g["cell_index"].to_numpy() - 1 for name, g in steps.groupby("probeset")}
    pm = np.concatenate([groups[nm] for nm in names])
    offsets = np.concatenate([[0], np.cumsum([groups[nm].size for nm in names])])
    empty = np.zeros(0, dtype=np.int64)
    return CdfData(
        "Test3", ROWS, COLS, names, pm, offsets, empty, np.zeros(len(names) + 1, np.int64)
    )


@pytest.fixture(scope="module")
def cell_arrays(steps) -> list[np.ndarray]:
    """Full cell-intensity vectors (non-PM cells are irrelevant to RMA, set to 1)."""
    out = []
    for raw in _cols(steps, "raw").T:
        x = np.ones(ROWS * COLS)
        x[steps["cell_index"].to_numpy() - 1] = raw
        out.append(x)
    return out


def _max_rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a / b - 1.0)))


def test_background_matches_r(steps):
    got = rma_background(_cols(steps, "raw"))
    assert _max_rel(got, _cols(steps, "bg")) < 1e-6


def test_background_one_array_equals_matrix_column(steps):
    raw = _cols(steps, "raw")
    np.testing.assert_array_equal(rma_background(raw[:, 2]), rma_background(raw)[:, 2])


def test_background_is_order_invariant(steps):
    raw = _cols(steps, "raw")[:, 0]
    perm = np.random.default_rng(0).permutation(raw.size)
    np.testing.assert_allclose(rma_background(raw[perm]), rma_background(raw)[perm], rtol=1e-12)


def test_density_mode_of_a_normal_sample():
    x = np.random.default_rng(1).normal(5.0, 1.0, 200_000)
    assert abs(density_mode(x) - 5.0) < 0.15


def test_quantile_normalize_matches_r_with_ties(steps):
    bg = _cols(steps, "bg")
    # The Test3 arrays have thousands of tied PM values: the tie rule matters here.
    assert min(len(c) - len(np.unique(c)) for c in bg.T) > 1000
    assert _max_rel(quantile_normalize(bg), _cols(steps, "norm")) < 1e-6


def test_quantile_tie_rule_small():
    # Column 0 has a tie over sorted positions 0..1 -> rank 1.5 -> mean of target[0:2].
    x = np.array([[1.0, 1.0], [1.0, 2.0], [3.0, 4.0]])
    target = np.array([1.0, 1.5, 3.5])
    got = quantile_normalize(x)
    np.testing.assert_allclose(got[:, 0], [1.25, 1.25, 3.5])
    np.testing.assert_allclose(got[:, 1], target)


def test_quantile_accumulator_equals_in_memory(steps):
    bg = _cols(steps, "bg")
    acc = QuantileAccumulator(bg.shape[0])
    codes = [acc.add(bg[:, j]) for j in (2, 0, 1)]  # any order gives the same target
    got = np.column_stack([acc.normalize(c) for c in codes])
    np.testing.assert_allclose(got, quantile_normalize(bg)[:, [2, 0, 1]], rtol=1e-14)


def test_median_polish_matches_r(steps, reference):
    log2 = np.log2(_cols(steps, "norm"))
    got = median_polish_summarize(log2, steps["probeset"].to_numpy())
    np.testing.assert_allclose(got, reference.to_numpy(), rtol=1e-6, atol=0)


def test_median_polish_offsets_equal_ids(steps):
    log2 = np.log2(_cols(steps, "norm"))
    _, counts = np.unique(pd.factorize(steps["probeset"])[0], return_counts=True)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    by_offsets = median_polish_summarize(log2, offsets=offsets)
    assert by_offsets.shape == (len(counts), log2.shape[1])
    np.testing.assert_array_equal(
        by_offsets, median_polish_summarize(log2, ids=steps["probeset"].to_numpy())
    )


def test_median_polish_single_probe_and_single_array():
    y = np.array([[3.0, 4.0], [5.0, 9.0], [7.0, 1.0]])
    got = median_polish_summarize(y, offsets=np.array([0, 1, 3]))
    assert got.shape == (2, 2)  # two probe sets: rows 0 and 1:3
    np.testing.assert_allclose(got[0], [3.0, 4.0])  # one probe: the values themselves
    got1 = median_polish_summarize(y[:, :1], np.array([0, 3]))
    assert got1.shape == (1, 1) and got1[0, 0] == 5.0  # one array: the median


def test_median_polish_ambiguous_groups_need_a_keyword():
    # [0, 1, 3] for 3 probes: 2 sets as CSR offsets, 3 sets as one id per probe.
    y = np.array([[3.0, 4.0], [5.0, 9.0], [7.0, 1.0]])
    with pytest.raises(GroupingError, match="offsets= or ids=") as info:
        median_polish_summarize(y, np.array([0, 1, 3]))
    assert isinstance(info.value, ValueError) and isinstance(info.value, SigrestoreError)
    assert median_polish_summarize(y, offsets=[0, 1, 3]).shape == (2, 2)
    as_ids = median_polish_summarize(y, ids=[0, 1, 3])
    assert as_ids.shape == (3, 2)
    np.testing.assert_allclose(as_ids, y)  # one probe per set: the values themselves
    # Unambiguous positional forms keep working.
    assert median_polish_summarize(y, np.array([0, 3])).shape == (1, 2)
    assert median_polish_summarize(y, np.array(["a", "b", "a"])).shape == (2, 2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one"),
        ({"offsets": [0, 3], "ids": [0, 0, 0]}, "exactly one"),
        ({"offsets": [0, 2]}, "offsets must be"),
        ({"offsets": [0, 2, 1, 3]}, "offsets must be"),
        ({"ids": [0, 0]}, "one probe-set id per probe"),
    ],
)
def test_median_polish_bad_grouping(kwargs, match):
    with pytest.raises(GroupingError, match=match):
        median_polish_summarize(np.ones((3, 2)), **kwargs)


def test_median_polish_known_two_way_table():
    # An exactly additive table is fitted in one iteration with zero residuals.
    rows = np.array([0.0, 1.0, -1.0, 2.0])[:, None]
    cols = np.array([5.0, 7.0, 6.0])[None, :]
    got = median_polish_summarize(rows + cols, np.array([0, 4]))
    np.testing.assert_allclose(got[0] - got[0].mean(), (cols - cols.mean())[0])


def test_rma_end_to_end_matches_r(layout, cell_arrays, reference):
    expr = rma(cell_arrays, layout, sample_names=list(reference.columns))
    assert list(expr.index) == list(reference.index)  # R's (ICU) probe-set order
    assert list(expr.columns) == list(reference.columns)
    assert np.max(np.abs(expr.to_numpy() - reference.to_numpy())) < 1e-4
    np.testing.assert_allclose(expr.to_numpy(), reference.to_numpy(), rtol=0, atol=1e-8)


def test_rma_inputs_npy_and_celdata(tmp_path, layout, cell_arrays, reference):
    paths = []
    for name, x in zip(reference.columns, cell_arrays, strict=True):
        p = tmp_path / f"{name}.npy"
        np.save(p, x.astype(np.float32))
        paths.append(p)
    from_npy = rma(paths, layout, n_jobs=2)
    assert list(from_npy.columns) == list(reference.columns)
    cels = [
        CelData(f"/x/{nm}.CEL", "text-v3", "Test3", ROWS, COLS, x, x, np.ones(x.size, np.int32))
        for nm, x in zip(reference.columns, cell_arrays, strict=True)
    ]
    from_cel = rma(cels, layout)
    np.testing.assert_allclose(from_npy.to_numpy(), from_cel.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(from_cel.to_numpy(), reference.to_numpy(), atol=1e-4)


def test_rma_switches(layout, cell_arrays, steps):
    # Without background or normalization the result is median polish of log2 raw PM.
    got = rma(cell_arrays, layout, background=False, normalize=False, order="cdf")
    want = median_polish_summarize(np.log2(_cols(steps, "raw")), steps["probeset"].to_numpy())
    want = pd.DataFrame(want, index=list(dict.fromkeys(steps["probeset"])))
    np.testing.assert_allclose(got.to_numpy(), want.loc[got.index].to_numpy(), atol=1e-10)
    assert list(got.index) == list(layout.probeset_names)


def test_rma_bad_inputs(layout, cell_arrays):
    with pytest.raises(FormatError, match="cells"):
        rma([cell_arrays[0][:-1]], layout)
    with pytest.raises(SigrestoreError, match="no arrays"):
        rma([], layout)
    with pytest.raises(SigrestoreError, match="not unique"):
        rma(cell_arrays[:2], layout, sample_names=["a", "a"])
    bad = cell_arrays[0].copy()
    bad[layout.pm_index[0]] = np.nan
    with pytest.raises(FormatError, match="finite"):
        rma([bad], layout)


def test_run_rma_returns_qc(layout, cell_arrays, reference):
    res = run_rma(cell_arrays, layout, sample_names=list(reference.columns))
    assert list(res.qc.index) == list(reference.columns)
    assert {"rle_median", "rle_iqr", "nuse_median", "nuse_iqr", "outlier"} <= set(res.qc.columns)
    # Normalized distributions are identical up to ties; raw ones are not.
    assert res.normalized_stats["med"].std() < 0.01 < res.raw_stats["med"].std()
    assert res.raw_density.shape[1] == 3
    widths = np.diff(res.density_grid)[0]
    np.testing.assert_allclose(res.raw_density.sum() * widths, 1.0, rtol=1e-9)
    assert res.residual_images.images.shape == (3, ROWS, COLS)


def test_r_sort_order():
    # As R 4.2.2 (ICU collation) sorts them: "_" sorts before digits.
    names = ["b_at", "A_at", "a_at", "AFFX-x", "AFFX_x", "10_at", "1_at", "B_at"]
    assert r_sorted(names) == ["1_at", "10_at", "a_at", "A_at", "AFFX_x", "AFFX-x", "b_at", "B_at"]


def test_rma_from_real_files_matches_r(data_dir, reference):
    """Test3 scans read from disk (text v3 and binary XDA CELs, XDA CDF), all gzipped."""
    d = data_dir / "rma"
    cels = [d / "Test3-1.v3.CEL.gz", d / "Test3-2.v3.CEL.gz", d / "Test3-3.xda.CEL.gz"]
    expr = rma([str(p) for p in cels], d / "Test3.xda.CDF.gz")  # the CDF given as a path
    assert list(expr.columns) == list(reference.columns)
    assert list(expr.index) == list(reference.index)
    assert np.max(np.abs(expr.to_numpy() - reference.to_numpy())) < 1e-4


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=6),
    st.integers(min_value=2, max_value=40),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_quantile_normalize_properties(n_arrays, n, seed):
    rng = np.random.default_rng(seed)
    # Rounded values so that ties are common.
    x = np.round(rng.lognormal(3, 1, (n, n_arrays)), 0) + 1
    got = quantile_normalize(x)
    target = np.sort(x, axis=0).mean(axis=1)
    for j in range(n_arrays):
        # Order is preserved (ties stay tied) and untied columns get the target exactly.
        assert np.all(np.diff(got[np.argsort(x[:, j], kind="stable"), j]) >= -1e-12)
        if np.unique(x[:, j]).size == n:
            np.testing.assert_allclose(np.sort(got[:, j]), target, rtol=1e-12)
    # Every normalized value is a target value or the mean of two neighbouring ones.
    mids = np.concatenate([target, 0.5 * (target[:-1] + target[1:])])
    assert np.all(np.min(np.abs(got.ravel()[:, None] - mids[None, :]), axis=1) < 1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=8),
    st.floats(min_value=-5, max_value=5),
    st.integers(min_value=0, max_value=2**32 - 1),
)
def test_median_polish_shift_and_permutation(k, n, shift, seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(8, 2, (k, n))
    offsets = np.array([0, k])
    base = median_polish_summarize(y, offsets=offsets)
    assert base.shape == (1, n)
    # A common shift of all values shifts every estimate by the same amount.
    np.testing.assert_allclose(
        median_polish_summarize(y + shift, offsets=offsets), base + shift, atol=1e-9
    )
    # Reordering the arrays reorders the estimates.
    perm = rng.permutation(n)
    np.testing.assert_allclose(
        median_polish_summarize(y[:, perm], offsets=offsets), base[:, perm], atol=1e-9
    )


def test_rma_result_independent_of_threads_and_block_size(layout, cell_arrays):
    base = rma(cell_arrays, layout)
    threaded = rma(cell_arrays, layout, n_jobs=3)
    tiny_blocks = rma(cell_arrays, layout, max_block_bytes=1)  # one probe set per block
    np.testing.assert_array_equal(threaded.to_numpy(), base.to_numpy())
    np.testing.assert_array_equal(tiny_blocks.to_numpy(), base.to_numpy())


def test_rma_reads_gzipped_text_cels_in_threads_bit_identically(
    tmp_path, layout, cell_arrays, reference
):
    """n_jobs reads (inflate + parse) in parallel; the result does not depend on it."""
    from sigrestore.io import write_cel

    paths = []
    for name, x in zip(reference.columns, cell_arrays, strict=True):
        p = tmp_path / f"{name}.CEL.gz"
        write_cel(
            p, CelData(str(p), "text-v3", "Test3", ROWS, COLS, x, x, np.ones(x.size, np.int32))
        )
        paths.append(p)
    one = run_rma(paths, layout, n_jobs=1)
    two = run_rma(paths, layout, n_jobs=2)
    pd.testing.assert_frame_equal(one.expression, two.expression, check_exact=True)
    pd.testing.assert_frame_equal(one.qc, two.qc, check_exact=True)


def test_rma_blocks_in_threads_are_bit_identical(layout, cell_arrays):
    """The per-block pass (median polish + QC fit) runs on n_jobs threads; a
    small block budget makes many blocks, and every result equals one thread's."""
    one = run_rma(cell_arrays, layout, n_jobs=1, max_block_bytes=4096)
    two = run_rma(cell_arrays, layout, n_jobs=2, max_block_bytes=4096)
    assert len(iter_size_blocks(layout.pm_offsets, n_arrays=len(cell_arrays), max_bytes=4096)) > 4
    pd.testing.assert_frame_equal(one.expression, two.expression, check_exact=True)
    pd.testing.assert_frame_equal(one.qc, two.qc, check_exact=True)
    pd.testing.assert_frame_equal(one.rle_stats, two.rle_stats, check_exact=True)
    pd.testing.assert_frame_equal(one.nuse_stats, two.nuse_stats, check_exact=True)
    np.testing.assert_array_equal(one.residual_images.images, two.residual_images.images)
    # ... and the blocks only bound memory: the expression does not depend on them.
    whole = run_rma(cell_arrays, layout, n_jobs=1)
    pd.testing.assert_frame_equal(one.expression, whole.expression, check_exact=True)


def test_a_worker_that_dies_names_its_file(tmp_path, layout, cell_arrays, monkeypatch):
    import sigrestore.io as sio

    paths = []
    for j, x in enumerate(cell_arrays[:3]):
        p = tmp_path / f"a{j}.npy"
        np.save(p, x)
        paths.append(p)
    bad = tmp_path / "broken.CEL"
    bad.write_bytes(b"[CEL]\n")
    real = sio.read_cel_intensity

    def dying(path):
        if str(path) == str(bad):
            raise MemoryError("simulated")
        return real(path)

    monkeypatch.setattr(sio, "read_cel_intensity", dying)
    with pytest.raises(SigrestoreError, match=r"array 3 \(.*broken\.CEL\).*MemoryError"):
        run_rma([paths[0], paths[1], bad, paths[2]], layout, n_jobs=2, qc=False)
