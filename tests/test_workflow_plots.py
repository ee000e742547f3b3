"""Sample-level figures of the pipeline (sigrestore.plotting.samples)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sigrestore.errors import SigrestoreError
from sigrestore.plotting.samples import (
    _binned_median,
    correlation_heatmap,
    group_palette,
    ma_plots,
    pca,
    pca_plot,
    sample_figures,
    save_figure,
)


@pytest.fixture()
def matrix():
    rng = np.random.default_rng(3)
    base = rng.normal(7, 2, (500, 1))
    groups = {f"s{j}": ("a" if j < 3 else "b") for j in range(6)}
    effect = np.zeros((500, 6))
    effect[:50, 3:] = 3.0
    x = base + effect + rng.normal(0, 0.2, (500, 6))
    return pd.DataFrame(x, columns=list(groups)), groups


def test_pca_matches_the_svd_of_the_centred_matrix(matrix):
    expr, _ = matrix
    scores, explained = pca(expr, n_components=3)
    centred = expr.to_numpy() - expr.to_numpy().mean(axis=1, keepdims=True)
    # Distances between arrays are preserved by the full set of components.
    full, _ = pca(expr, n_components=6)
    d_scores = np.linalg.norm(full.to_numpy()[:, None] - full.to_numpy()[None], axis=2)
    d_data = np.linalg.norm(centred.T[:, None] - centred.T[None], axis=2)
    np.testing.assert_allclose(d_scores, d_data, atol=1e-9)
    assert explained[0] > 0.5  # the planted group effect dominates
    assert np.all(np.diff(explained) <= 0)
    # PC1 separates the groups.
    assert (
        scores.loc[["s0", "s1", "s2"], "PC1"].max() < scores.loc[["s3", "s4", "s5"], "PC1"].min()
    ) or (scores.loc[["s0", "s1", "s2"], "PC1"].min() > scores.loc[["s3", "s4", "s5"], "PC1"].max())


def test_pca_needs_two_arrays():
    with pytest.raises(SigrestoreError, match="at least two arrays"):
        pca(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))


def test_binned_median():
    a = np.repeat(np.arange(4.0), 5) + 0.5
    m = np.tile(np.array([1.0, 2.0, 3.0, 4.0, 100.0]), 4)
    centres, medians = _binned_median(a, m, np.arange(5.0))
    np.testing.assert_allclose(centres, [0.5, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(medians, [3.0, 3.0, 3.0, 3.0])


def test_group_palette_is_stable():
    palette = group_palette(["b", "a", "b", "c"])
    assert list(palette) == ["b", "a", "c"]
    assert len(set(palette.values())) == 3


def test_missing_group_is_an_error(matrix):
    expr, groups = matrix
    del groups["s5"]
    with pytest.raises(SigrestoreError, match="s5"):
        pca_plot(expr, groups)


def test_figures_are_written_in_every_format_and_reproducibly(matrix, tmp_path):
    expr, groups = matrix
    figures = sample_figures(expr, groups)
    assert set(figures) == {"pca", "correlation", "ma_plots"}
    assert len(figures["ma_plots"].axes) >= expr.shape[1]
    for name, fig in figures.items():
        save_figure(fig, [tmp_path / f"{name}.png", tmp_path / f"{name}.svg"])
    for name in figures:
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert (tmp_path / f"{name}.svg").read_bytes().startswith(b"<?xml")
    save_figure(correlation_heatmap(expr, groups), [tmp_path / "again.svg"])
    assert (tmp_path / "again.svg").read_bytes() == (tmp_path / "correlation.svg").read_bytes()
    save_figure(ma_plots(expr, max_points=100), [tmp_path / "ma_small.png"])
    assert not list(tmp_path.glob(".*tmp*"))
