"""Array-quality metrics and their figures."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from sigrestore.errors import SigrestoreError
from sigrestore.io.models import CdfData
from sigrestore.preprocess import qc as qcm
from sigrestore.preprocess import run_rma

matplotlib.use("Agg")


def _layout(n_sets: int = 300, k: int = 8, side: int = 80) -> CdfData:
    rng = np.random.default_rng(5)
    cells = rng.permutation(side * side)[: n_sets * k]
    off = np.arange(n_sets + 1, dtype=np.int64) * k
    empty = np.zeros(0, np.int64)
    names = [f"ps{i}_at" for i in range(n_sets)]
    return CdfData("Toy", side, side, names, cells, off, empty, np.zeros(n_sets + 1, np.int64))


def _arrays(layout: CdfData, n: int, *, bad: int | None = None, seed: int = 3) -> list:
    """Probe-effect + expression model; array ``bad`` gets heavy extra noise."""
    rng = np.random.default_rng(seed)
    n_sets = layout.n_probesets
    k = int(layout.pm_offsets[1])
    expr = rng.normal(8, 2, n_sets)
    probe = rng.normal(0, 0.7, (n_sets, k))
    out = []
    for j in range(n):
        noise = rng.normal(0, 0.15 if j != bad else 0.9, (n_sets, k))
        log2 = expr[:, None] + probe + noise
        x = np.exp2(rng.normal(5, 0.3, layout.rows * layout.cols))
        x[layout.pm_index] = np.exp2(log2.ravel()) + 2.0**5
        out.append(x)
    return out


@pytest.fixture(scope="module")
def result():
    layout = _layout()
    return run_rma(_arrays(layout, 8, bad=5), layout)


def test_noisy_array_is_flagged(result):
    table = result.qc
    assert table.index[table["nuse_median"].argmax()] == "sample_6"
    assert bool(table.loc["sample_6", "nuse_flag"])
    assert bool(table.loc["sample_6", "rle_flag"])
    assert table["outlier"].sum() == 1
    good = table.drop("sample_6")
    np.testing.assert_allclose(good["nuse_median"], 1.0, atol=0.05)
    assert good["rle_median"].abs().max() < 0.1
    assert table["rle_iqr"].idxmax() == "sample_6"
    assert table.loc["sample_6", "rle_iqr"] > 2 * good["rle_iqr"].max()


def test_rle_and_nuse_definitions():
    e = np.array([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]])
    np.testing.assert_allclose(qcm.rle(e), [[-1.0, 0.0, 2.0], [0.0, 0.0, 3.0]])
    np.testing.assert_allclose(qcm.nuse(np.array([[1.0, 2.0, 4.0]])), [[0.5, 1.0, 2.0]])


# ----------------------------------------------------------- probe-level model
#
# The reference is statsmodels' RLM on the explicit design matrix of affyPLM's
# default model PM ~ -1 + probes + samples (chip indicators, then probe columns
# under contr.sum), with Huber's psi (k = 1.345) and preprocessCore's scale rule
# median|r| / 0.6745; statsmodels also starts from least squares and reweights
# from the current residuals, so its iterates are the same sequence.


def _design(k: int, n: int) -> np.ndarray:
    """Rows in array-major order (probe within array), as ``y[:, j]`` stacked."""
    chips = np.kron(np.eye(n), np.ones((k, 1)))
    probes = np.vstack([np.eye(k - 1), -np.ones((1, k - 1))])
    return np.hstack([chips, np.tile(probes, (n, 1))])


def _rlm(y: np.ndarray, *, maxiter: int, tol: float):
    import statsmodels.api as sm
    from statsmodels.robust.norms import HuberT

    k, n = y.shape
    model = sm.RLM(y.T.ravel(), _design(k, n), M=HuberT(t=1.345))
    return model.fit(
        scale_est=lambda _model, r: np.median(np.abs(r)) / 0.6745,
        maxiter=maxiter,
        tol=tol,
        conv="coefs",
    )


def _probe_sets(g: int, k: int, n: int, seed: int) -> np.ndarray:
    """Additive log2 data with heavy-tailed noise and a few gross outliers."""
    rng = np.random.default_rng(seed)
    y = (
        rng.normal(8, 2, (g, 1, n))
        + rng.normal(0, 0.7, (g, k, 1))
        + 0.2 * rng.standard_t(3, (g, k, n))
    )
    y[np.arange(g), rng.integers(0, k, g), rng.integers(0, n, g)] += rng.choice([-3, 4], g)
    return y


@pytest.mark.parametrize(("k", "n"), [(7, 5), (11, 6), (4, 12)])
@pytest.mark.parametrize("iters", [1, 2, 4])
def test_plm_iterates_equal_statsmodels_rlm(k, n, iters):
    y = _probe_sets(5, k, n, seed=k * n + iters)
    fit = qcm.fit_plm_block(y, max_iter=iters, tol=0.0)
    assert np.all(fit.iterations == iters)
    for g in range(y.shape[0]):
        ref = _rlm(y[g], maxiter=iters + 1, tol=0.0)  # statsmodels counts the LS start
        np.testing.assert_allclose(fit.chip_effects[g], ref.params[:n], rtol=0, atol=1e-10)
        np.testing.assert_allclose(fit.probe_effects[g, :-1], ref.params[n:], atol=1e-10)
        np.testing.assert_allclose(fit.weights[g].T.ravel(), ref.weights, atol=1e-10)


def test_plm_converged_fit_and_se_equal_independent_formula():
    k, n = 9, 7
    y = _probe_sets(6, k, n, seed=11)
    fit = qcm.fit_plm_block(y, max_iter=500, tol=1e-13)
    x = _design(k, n)
    p = x.shape[1]
    for g in range(y.shape[0]):
        ref = _rlm(y[g], maxiter=1000, tol=1e-15)
        np.testing.assert_allclose(fit.chip_effects[g], ref.params[:n], atol=1e-9)
        np.testing.assert_allclose(fit.probe_effects[g].sum(), 0.0, atol=1e-12)
        # se.type = 4: sqrt(sum w r^2 / (N - p)) * sqrt(diag((X'WX)^-1)), from
        # statsmodels' final weights and residuals and the explicit design matrix
        w, r = ref.weights, ref.resid
        sigma = np.sqrt(np.sum(w * r**2) / (x.shape[0] - p))
        se = sigma * np.sqrt(np.diag(np.linalg.inv(x.T @ (w[:, None] * x))))
        np.testing.assert_allclose(fit.se[g], se[:n], rtol=1e-8)
        np.testing.assert_allclose(fit.residual_se[g], sigma, rtol=1e-8)
        np.testing.assert_allclose(fit.residuals[g].T.ravel(), r, atol=1e-9)


def test_plm_default_stops_by_affyplm_rule():
    """Default fit stops at the first step whose residuals moved < 1e-4 relative."""
    k, n = 11, 8
    y = _probe_sets(4, k, n, seed=5)
    fit = qcm.fit_plm_block(y)
    for g in range(y.shape[0]):
        m = int(fit.iterations[g])
        assert 1 <= m <= 20

        def resid(steps, g=g):
            if steps == 0:  # the least-squares start
                x, v = _design(k, n), y[g].T.ravel()
                return v - x @ np.linalg.lstsq(x, v, rcond=None)[0]
            return _rlm(y[g], maxiter=steps + 1, tol=0.0).resid

        def delta(steps, resid=resid):
            old, new = resid(steps - 1), resid(steps)
            return np.sqrt(np.sum((old - new) ** 2) / max(np.sum(old**2), 1e-20))

        if m < 20:
            assert delta(m) < 1e-4
        for earlier in range(1, m):
            assert delta(earlier) >= 1e-4
        ref = _rlm(y[g], maxiter=m + 1, tol=0.0)
        np.testing.assert_allclose(fit.chip_effects[g], ref.params[:n], atol=1e-10)
        w, r = ref.weights, ref.resid
        x = _design(k, n)
        sigma = np.sqrt(np.sum(w * r**2) / (x.shape[0] - x.shape[1]))
        se = sigma * np.sqrt(np.diag(np.linalg.inv(x.T @ (w[:, None] * x))))
        np.testing.assert_allclose(fit.se[g], se[:n], rtol=1e-8)


def test_plm_chunks_and_edge_cases():
    y = _probe_sets(40, 6, 5, seed=2)
    whole = qcm.fit_plm_block(y)
    chunked = qcm.fit_plm_block(y, max_bytes=3 * 6 * 5 * 8 * 10)  # 3 probe sets per chunk
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_array_equal(a, b)
    # an exactly additive probe set: scale 0 stops before any reweighting (LS fit)
    a = np.linspace(-1, 1, 6)
    b = np.arange(5.0) + 7
    exact = qcm.fit_plm_block((a[:, None] + b[None, :])[None])
    assert exact.iterations[0] == 0
    np.testing.assert_allclose(exact.chip_effects[0], b)
    np.testing.assert_allclose(exact.probe_effects[0], a, atol=1e-12)
    assert np.all(exact.weights == 1.0)
    # one-probe sets have no residual degrees of freedom: SE is NaN, as in affyPLM
    single = qcm.fit_plm_block(np.arange(6.0).reshape(2, 1, 3))
    assert np.all(np.isnan(single.se))
    np.testing.assert_array_equal(single.chip_effects, [[0, 1, 2], [3, 4, 5]])
    with pytest.raises(SigrestoreError, match="G x k x n"):
        qcm.fit_plm_block(np.ones((3, 4)))


def test_nuse_near_one_and_nothing_flagged_on_good_arrays():
    layout = _layout()
    res = run_rma(_arrays(layout, 8, seed=8), layout)
    np.testing.assert_allclose(res.qc["nuse_median"], 1.0, atol=0.03)
    assert res.qc["rle_median"].abs().max() < 0.05
    assert not res.qc["outlier"].any()


def test_box_stats_matches_numpy():
    v = np.r_[np.arange(100.0), 1000.0]
    s = qcm.box_stats(v)
    assert s["med"] == 50.0 and s["whishi"] == 99.0 and s["iqr"] == 50.0


def test_residual_images_put_residuals_on_their_cells():
    imgs = qcm.ResidualImages.allocate(4, 6, 2, max_side=3)  # 2x2 bins -> 2 x 3 image
    cells = np.array([0, 1, 7, 23])  # (0,0) (0,1) (1,1) in bin 0; (3,5) in the last bin
    res = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 6.0], [-1.0, 5.0]])
    imgs.add(cells, res)
    imgs.finish()
    assert imgs.images.shape == (2, 2, 3)
    assert imgs.images[0, 0, 0] == pytest.approx(2.0)
    assert imgs.images[1, 1, 2] == pytest.approx(5.0)
    assert np.isnan(imgs.images[0, 0, 1])


def test_figures(result, tmp_path):
    from sigrestore import plotting
    from sigrestore.atomic import write_figure

    figs = {
        "raw_box": plotting.intensity_boxplots(result),
        "norm_box": plotting.intensity_boxplots(result, stage="normalized"),
        "raw_dens": plotting.intensity_densities(result),
        "norm_dens": plotting.intensity_densities(result, stage="normalized"),
        "rle": plotting.rle_boxplots(result),
        "nuse": plotting.nuse_boxplots(result),
        "img": plotting.residual_image(result, "sample_6"),
        "imgs": plotting.residual_images(result),
    }
    for name, fig in figs.items():
        assert len(fig.axes) >= 1
        write_figure(fig, tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
    assert len(figs["rle"].axes[0].patches) == 8  # one box per array


def test_qc_table_columns(result):
    assert list(result.qc.index) == [f"sample_{i}" for i in range(1, 9)]
    assert pd.api.types.is_bool_dtype(result.qc["outlier"])
    assert {"bg_alpha", "bg_mu", "bg_sigma", "raw_log2_median"} <= set(result.qc.columns)
