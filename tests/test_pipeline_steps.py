"""sigrestore.pipeline: what the diffexp and restoration rules compute, called from
Python on a small simulated experiment (true log2 expression, no CEL files)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.annotation import collapse_to_genes, is_control_probe_set, read_annotation
from sigrestore.diffexp import DESettings, DesignSpec, differential_expression
from sigrestore.errors import ConfigError
from sigrestore.pipeline import (
    ContrastRefit,
    contrast_tables,
    fit_contrast_tables,
    level_expression,
    level_matrices,
    level_tables,
    restoration_outputs,
)
from sigrestore.restoration import analyze_comparison, comparison_calls
from sigrestore.simulate.experiment import (
    ExampleSpec,
    expression_matrix,
    plan_truth,
    write_annotation,
)

SPEC = ExampleSpec(n_probesets=400, signature_size=60, n_mtorc1=20, duplicate_share=0.2)
FACTORS = ["cell_line", "treatment"]
CONTRASTS = {
    "fulv_sens": "sensitive_fulvestrant - sensitive_vehicle",
    "cotreat_res": "resistant_fulvestrant_rapamycin - resistant_vehicle",
    "fulv_res": "resistant_fulvestrant - resistant_vehicle",
}
ENTRY = {
    "name": "small",
    "reference": "fulv_sens",
    "restoration": "cotreat_res",
    "resistance": "fulv_res",
    "fdr": 0.05,
    "lfc": 1.0,
    "bootstrap": {"n": 6},
    "connectivity": {"permutations": 0},
}
CONTROL = "AFFX-BioB-5_at"


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    """Expression (probe sets x arrays), sample sheet and annotation path.

    One AFFX- control is made to respond to fulvestrant in sensitive cells as
    strongly as the signature, so a pipeline that kept controls would put it
    in the signature.
    """
    truth = plan_truth(SPEC)
    expr, samples = expression_matrix(truth, SPEC)
    fulv_sens = (samples["cell_line"] == "sensitive") & samples["treatment"].str.contains("fulv")
    expr.loc[CONTROL, fulv_sens.to_numpy()] += 3.0
    path = tmp_path_factory.mktemp("pipeline") / "annot.csv"
    write_annotation(truth, path, chip_type=SPEC.chip_type)
    return expr, samples.drop(columns=["file", "format"]), path, truth


def _tables(experiment, **kwargs):
    expr, samples, _, _ = experiment
    return {
        c: contrast_tables(
            expr, samples, contrast=c, contrasts=CONTRASTS, factors=FACTORS, **kwargs
        )
        for c in CONTRASTS
    }


# --------------------------------------------------------------------------- contrast_tables


def test_contrast_tables_without_annotation_is_the_plain_limma_table(experiment):
    expr, samples, _, _ = experiment
    tables = contrast_tables(
        expr, samples, contrast="fulv_sens", contrasts=CONTRASTS, factors=FACTORS
    )
    assert tables.genes is None
    direct = differential_expression(
        expr, samples, factors=FACTORS, contrasts={"fulv_sens": CONTRASTS["fulv_sens"]}
    )["fulv_sens"]
    pd.testing.assert_frame_equal(tables.probesets, direct)


def test_contrast_tables_gene_table_is_limma_on_the_collapsed_matrix(experiment):
    expr, samples, path, _ = experiment
    annotation = read_annotation(path)
    tables = contrast_tables(
        expr,
        samples,
        contrast="fulv_sens",
        contrasts=CONTRASTS,
        factors=FACTORS,
        annotation=path,
        collapse="max_iqr",
    )
    assert list(tables.probesets.columns[:2]) == ["gene_symbol", "entrez_id"]
    assert len(tables.probesets) == len(expr)
    genes = collapse_to_genes(expr, annotation, method="max_iqr")
    direct = differential_expression(
        genes, samples, factors=FACTORS, contrasts={"fulv_sens": CONTRASTS["fulv_sens"]}
    )["fulv_sens"]
    pd.testing.assert_frame_equal(tables.genes, direct)
    # Controls, multi-gene probe sets and second probe sets of a gene are gone.
    assert not is_control_probe_set(tables.genes.index).any()
    assert tables.genes.index.is_unique
    assert not tables.genes.index.str.contains("///").any()
    assert len(tables.genes) < len(expr) - 16


def test_one_fit_of_every_contrast_equals_one_fit_per_contrast(experiment):
    # The diffexp job fits all contrasts at once; each table must be exactly
    # the table of that contrast fitted alone (limma moderates each contrast
    # on its own), gene level included.
    expr, samples, path, _ = experiment
    annotation = read_annotation(path)
    de = DESettings.from_options(factors=FACTORS, collapse="max_iqr")
    matrices = level_matrices(expr, samples, de, annotation=annotation)
    together = fit_contrast_tables(matrices, samples, de, contrasts=CONTRASTS, features=annotation)
    assert list(together) == list(CONTRASTS)
    for name, expression in CONTRASTS.items():
        alone = fit_contrast_tables(
            matrices, samples, de, contrasts={name: expression}, features=annotation
        )[name]
        pd.testing.assert_frame_equal(together[name].probesets, alone.probesets, check_exact=True)
        pd.testing.assert_frame_equal(together[name].genes, alone.genes, check_exact=True)


def test_the_restoration_jobs_tables_are_the_diffexp_jobs(experiment):
    # The restoration job fits its comparison's contrasts with level_tables
    # instead of reading the diffexp job's files: the same tables, exactly.
    expr, samples, path, _ = experiment
    annotation = read_annotation(path)
    de = DESettings.from_options(factors=FACTORS)
    matrices = level_matrices(expr, samples, de, annotation=annotation)
    written = fit_contrast_tables(matrices, samples, de, contrasts=CONTRASTS, features=annotation)
    used = {c: CONTRASTS[c] for c in ("fulv_sens", "cotreat_res")}
    genes = level_tables(matrices.gene, samples, de, contrasts=used)
    probesets = level_tables(matrices.probeset, samples, de, contrasts=used, features=annotation)
    for name in used:
        pd.testing.assert_frame_equal(genes[name], written[name].genes, check_exact=True)
        pd.testing.assert_frame_equal(probesets[name], written[name].probesets, check_exact=True)


def test_contrast_tables_unknown_contrast(experiment):
    expr, samples, _, _ = experiment
    with pytest.raises(ConfigError, match="nope"):
        contrast_tables(expr, samples, contrast="nope", contrasts=CONTRASTS, factors=FACTORS)


# --------------------------------------------------------------------------- restoration


def _analyze_by_hand(tables, spec, matrix: pd.DataFrame, samples: pd.DataFrame):
    """The comparison analysed on ``matrix`` with plain limma refits (no pipeline)."""
    return analyze_comparison(
        tables,
        spec,
        expr=matrix,
        samples=samples,
        factors=FACTORS,
        de_function=functools.partial(
            differential_expression,
            factors=FACTORS,
            contrasts={c: CONTRASTS[c] for c in spec.contrasts},
        ),
    )


def _counts_from(tables: dict[str, pd.DataFrame]) -> tuple[pd.Series, pd.Series]:
    ref, res = tables["fulv_sens"], tables["cotreat_res"].reindex(tables["fulv_sens"].index)
    sig = ((ref["adj.P.Val"] < 0.05) & (ref["logFC"].abs() >= 1.0)) * np.sign(ref["logFC"])
    call = (res["adj.P.Val"] < 0.05) * np.sign(res["logFC"])
    s = sig[sig != 0]
    return s, call[s.index] == s


def test_gene_level_uses_gene_tables_and_the_gene_matrix(experiment, tmp_path):
    expr, samples, path, truth = experiment
    tables = _tables(experiment, annotation=path)
    genes = {c: t.genes for c, t in tables.items()}
    out = restoration_outputs(
        genes,
        expr,
        samples,
        comparison=ENTRY,
        seed=7,
        contrasts=CONTRASTS,
        factors=FACTORS,
        annotation=path,
    )
    row = out.result.summary.iloc[0]
    assert row["level"] == "gene"
    s, restored = _counts_from(genes)
    assert row["signature_size"] == len(s) > 0
    assert row["restored"] == restored.sum()
    assert row["universe"] == len(genes["fulv_sens"])
    assert set(out.result.features.index) == set(s.index)
    # Signature genes are the planted ones (each on one probe set).
    planted = set(truth.loc[truth["signature"], "gene"])
    assert set(s.index) <= planted
    matrix = collapse_to_genes(expr, read_annotation(path), method="max_mean")
    pd.testing.assert_frame_equal(out.expression, matrix)
    # The bootstrap refits resamples of that gene matrix: the same as doing it by hand.
    by_hand = _analyze_by_hand(genes, out.result.spec, matrix, samples)
    assert out.result.bootstrap["signature_size"].notna().all()
    pd.testing.assert_frame_equal(out.result.bootstrap, by_hand.bootstrap)
    written = out.write(tmp_path / "small", formats=("png", "svg"))
    names = {p.name for p in written}
    assert {"summary.tsv", "features.tsv", "heatmap.png", "heatmap.svg"} <= names
    assert {p.name for p in out.write(tmp_path / "png")} >= {"heatmap.png", "summary.tsv"}
    assert not list((tmp_path / "png").glob("*.svg"))  # figures.formats' default: PNG


def test_probeset_level_leaves_affx_controls_out(experiment):
    expr, samples, _, _ = experiment
    tables = {c: t.probesets for c, t in _tables(experiment).items()}
    s_all, _ = _counts_from(tables)
    assert CONTROL in s_all.index  # the planted control would be in S
    out = restoration_outputs(
        tables,
        expr,
        samples,
        comparison=ENTRY | {"level": "probeset"},
        seed=7,
        contrasts=CONTRASTS,
        factors=FACTORS,
    )
    row = out.result.summary.iloc[0]
    assert row["level"] == "probeset"
    assert CONTROL not in out.result.features.index
    assert row["signature_size"] == len(s_all) - 1
    assert row["universe"] == len(expr) - 16
    # The refits drop the controls too: every resample's S would include the control.
    kept = {c: t.loc[~is_control_probe_set(t.index)] for c, t in tables.items()}
    spec = out.result.spec

    def refit_without_controls(m, sh, weights=None):
        fitted = differential_expression(
            m,
            sh,
            factors=FACTORS,
            contrasts={c: CONTRASTS[c] for c in spec.contrasts},
            weights=weights,
        )
        return {c: t.loc[~is_control_probe_set(t.index)] for c, t in fitted.items()}

    by_hand = analyze_comparison(
        kept,
        spec,
        expr=expr,
        samples=samples,
        factors=FACTORS,
        de_function=refit_without_controls,
    )
    pd.testing.assert_frame_equal(out.result.bootstrap, by_hand.bootstrap)
    assert (comparison_calls(kept, spec).index == by_hand.calls.index).all()


def test_level_follows_the_annotation_when_unset(experiment):
    expr, samples, path, _ = experiment
    tables = _tables(experiment, annotation=path)
    entry = ENTRY | {"bootstrap": {"n": 0}}
    gene = restoration_outputs(
        {c: t.genes for c, t in tables.items()},
        expr,
        samples,
        comparison=entry,
        seed=1,
        contrasts=CONTRASTS,
        factors=FACTORS,
        annotation=read_annotation(path),
    )
    assert gene.result.spec.level == "gene"
    probeset = restoration_outputs(
        {c: t.probesets for c, t in tables.items()},
        expr,
        samples,
        comparison=entry,
        seed=1,
        contrasts=CONTRASTS,
        factors=FACTORS,
    )
    assert probeset.result.spec.level == "probeset"


def test_tables_of_the_wrong_level_are_refused(experiment):
    expr, samples, path, _ = experiment
    tables = _tables(experiment, annotation=path)
    with pytest.raises(ConfigError, match="not in the gene-level expression matrix"):
        restoration_outputs(
            {c: t.probesets for c, t in tables.items()},
            expr,
            samples,
            comparison=ENTRY | {"level": "gene"},
            seed=1,
            contrasts=CONTRASTS,
            factors=FACTORS,
            annotation=path,
        )


def test_gene_level_without_annotation_is_a_config_error(experiment):
    expr, samples, _, _ = experiment
    with pytest.raises(ConfigError, match=r"level.*annotation"):
        restoration_outputs(
            {},
            expr,
            samples,
            comparison=ENTRY | {"level": "gene"},
            seed=1,
            contrasts=CONTRASTS,
            factors=FACTORS,
        )
    with pytest.raises(ConfigError, match="annotation"):
        level_expression(expr, level="gene")


def test_tables_may_be_paths(experiment, tmp_path: Path):
    expr, samples, path, _ = experiment
    tables = _tables(experiment, annotation=path)
    paths = {}
    for c, t in tables.items():
        paths[c] = tmp_path / f"{c}.genes.tsv"
        t.genes.to_csv(paths[c], sep="\t")
    entry = ENTRY | {"bootstrap": {"n": 0}}
    kwargs = dict(comparison=entry, seed=1, contrasts=CONTRASTS, factors=FACTORS, annotation=path)
    from_paths = restoration_outputs(paths, expr, samples, **kwargs)
    in_memory = restoration_outputs(
        {c: t.genes for c, t in tables.items()}, expr, samples, **kwargs
    )
    pd.testing.assert_frame_equal(
        from_paths.result.summary, in_memory.result.summary, check_exact=False, rtol=1e-9
    )


def test_contrast_refit_takes_weights_like_the_bootstrap_needs(experiment):
    expr, samples, _, _ = experiment
    refit = ContrastRefit(
        design=DesignSpec(factors=FACTORS), contrasts={"fulv_sens": CONTRASTS["fulv_sens"]}
    )
    plain = refit(expr, samples)["fulv_sens"]
    doubled = refit(expr, samples, weights=np.full(len(samples), 2.0))["fulv_sens"]
    # Equal weights scale every variance alike: same logFC, same t.
    np.testing.assert_allclose(plain["logFC"], doubled["logFC"], rtol=1e-10)
    np.testing.assert_allclose(plain["t"], doubled["t"], rtol=1e-8)
    no_controls = ContrastRefit(
        design=DesignSpec(factors=FACTORS),
        contrasts={"fulv_sens": CONTRASTS["fulv_sens"]},
        exclude_controls=True,
    )(expr, samples)["fulv_sens"]
    assert len(no_controls) == len(plain) - 16


def test_the_examples_planted_fraction_holds_at_gene_level(tmp_path):
    # The example's signature probe sets each measure their own gene (second probe
    # sets, multi-gene entries and unnamed probe sets are only planted among
    # non-responding features), so collapsing to genes keeps the planted S and
    # its restored part unchanged: the planted 0.40 is also the gene-level truth.
    spec = ExampleSpec()
    truth = plan_truth(spec)
    write_annotation(truth, tmp_path / "annot.csv", chip_type=spec.chip_type)
    annotation = read_annotation(tmp_path / "annot.csv")
    expr = pd.DataFrame(
        np.arange(len(truth), dtype=float)[:, None].repeat(2, axis=1),
        index=truth["probeset"].to_numpy(),
        columns=["a", "b"],
    )
    genes = collapse_to_genes(expr, annotation, method="max_mean")
    signature = truth[truth["signature"]]
    assert signature["gene"].is_unique and (signature["gene"] != "").all()
    assert set(signature["gene"]) <= set(genes.index)
    restored = signature["status"].isin(["restored", "retained_restored"])
    gene_fraction = signature.loc[restored, "gene"].nunique() / signature["gene"].nunique()
    assert gene_fraction == pytest.approx(spec.planted_restored_fraction)
    # And the gene matrix is smaller: genes measured twice count once.
    assert len(genes) < spec.n_probesets


# --------------------------------------------------------------------------- expression filter

FILTER = {"enabled": True, "min_expr": 6.0, "min_samples": None}


def _bh(p: pd.Series) -> pd.Series:
    """Benjamini-Hochberg over exactly the p-values given (as R's p.adjust)."""
    order = np.argsort(p.to_numpy())[::-1]
    m = len(p)
    ranked = p.to_numpy()[order] * m / np.arange(m, 0, -1)
    adjusted = np.minimum(1.0, np.minimum.accumulate(ranked))
    out = np.empty(m)
    out[order] = adjusted
    return pd.Series(out, index=p.index)


def _expressed(expr: pd.DataFrame, min_expr: float, min_samples: int) -> pd.Index:
    return expr.index[(expr >= min_expr).sum(axis=1) >= min_samples]


def test_filter_off_leaves_the_tables_unchanged(experiment):
    expr, samples, path, _ = experiment
    kwargs = dict(contrast="fulv_sens", contrasts=CONTRASTS, factors=FACTORS, annotation=path)
    plain = contrast_tables(expr, samples, **kwargs)
    # Off (the schema default) is off whatever the thresholds say.
    off = contrast_tables(
        expr, samples, filter={"enabled": False, "min_expr": 99.0, "min_samples": 2}, **kwargs
    )
    assert plain.filtered is None and off.filtered is None
    pd.testing.assert_frame_equal(off.probesets, plain.probesets)
    pd.testing.assert_frame_equal(off.genes, plain.genes)
    assert len(plain.probesets) == len(expr)


def test_filter_drops_low_probe_sets_before_the_fit(experiment):
    expr, samples, _, _ = experiment
    tables = contrast_tables(
        expr, samples, contrast="fulv_sens", contrasts=CONTRASTS, factors=FACTORS, filter=FILTER
    )
    # min_samples null: the smallest group (3 arrays per group here).
    kept = _expressed(expr, 6.0, 3)
    assert 0 < len(kept) < len(expr) - 50
    assert set(tables.probesets.index) == set(kept)
    assert tables.filtered.min_samples == 3
    assert tables.filtered.n_removed == len(expr) - len(kept)
    assert tables.filtered.n_kept == len(tables.probesets)
    assert f"removed {len(expr) - len(kept)} of {len(expr)} probe sets" in str(tables.filtered)
    # Exactly limma on the kept probe sets: the prior comes from them only ...
    direct = differential_expression(
        expr.loc[kept], samples, factors=FACTORS, contrasts={"fulv_sens": CONTRASTS["fulv_sens"]}
    )["fulv_sens"]
    pd.testing.assert_frame_equal(tables.probesets, direct)
    plain = contrast_tables(
        expr, samples, contrast="fulv_sens", contrasts=CONTRASTS, factors=FACTORS
    ).probesets
    assert not np.allclose(plain.loc[kept, "t"], tables.probesets.loc[kept, "t"], rtol=1e-6)
    # ... and BH adjusts over the kept probe sets only (m = len(kept)), which at
    # the same p-values can only lower adj.P.Val: adding the removed probe sets'
    # p-values back to the family never lowers an adjusted p-value.
    filtered = tables.probesets
    np.testing.assert_allclose(filtered["adj.P.Val"], _bh(filtered["P.Value"]), rtol=1e-12)
    removed = plain.index.difference(kept)
    family = pd.concat([filtered["P.Value"], plain.loc[removed, "P.Value"]])
    over_all = _bh(family).loc[filtered.index]
    assert (filtered["adj.P.Val"] <= over_all + 1e-15).all()
    assert (filtered["adj.P.Val"] < over_all).sum() > len(kept) // 2
    # Low-intensity probe sets are mostly null: the filter gains calls at 5 % FDR.
    assert (filtered["adj.P.Val"] < 0.05).sum() >= (plain["adj.P.Val"] < 0.05).sum()


def test_filter_at_gene_level_filters_probe_sets_before_the_collapse(experiment):
    expr, samples, path, _ = experiment
    tables = contrast_tables(
        expr,
        samples,
        contrast="fulv_sens",
        contrasts=CONTRASTS,
        factors=FACTORS,
        annotation=path,
        filter=FILTER | {"min_samples": 4},
    )
    kept = _expressed(expr, 6.0, 4)
    assert tables.filtered.min_samples == 4
    assert list(tables.probesets.columns[:2]) == ["gene_symbol", "entrez_id"]
    assert set(tables.probesets.index) == set(kept)
    genes = collapse_to_genes(expr.loc[kept], read_annotation(path), method="max_mean")
    direct = differential_expression(
        genes, samples, factors=FACTORS, contrasts={"fulv_sens": CONTRASTS["fulv_sens"]}
    )["fulv_sens"]
    pd.testing.assert_frame_equal(tables.genes, direct)
    unfiltered_genes = collapse_to_genes(expr, read_annotation(path), method="max_mean")
    assert len(tables.genes) < len(unfiltered_genes)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_samples": 25}, r"differential_expression\.filter.*min_samples.*between 1 and 24"),
        ({"min_expr": float("nan")}, r"differential_expression\.filter.*min_expr"),
        ({"min_expr": 99.0}, r"differential_expression\.filter: no probe set"),
        ({"threshold": 3}, r"differential_expression\.filter: unknown key"),
    ],
)
def test_filter_errors_name_the_key(experiment, options, message):
    expr, samples, _, _ = experiment
    with pytest.raises(ConfigError, match=message):
        contrast_tables(
            expr,
            samples,
            contrast="fulv_sens",
            contrasts=CONTRASTS,
            factors=FACTORS,
            filter=FILTER | options,
        )


def test_restoration_and_its_bootstrap_keep_the_filtered_feature_set(experiment):
    expr, samples, path, _ = experiment
    tables = _tables(experiment, annotation=path, filter=FILTER)
    genes = {c: t.genes for c, t in tables.items()}
    kwargs = dict(comparison=ENTRY, seed=7, contrasts=CONTRASTS, factors=FACTORS, annotation=path)
    out = restoration_outputs(genes, expr, samples, filter=FILTER, **kwargs)
    assert out.filtered == tables["fulv_sens"].filtered
    assert set(out.expression.index) == set(genes["fulv_sens"].index)
    assert out.result.summary.iloc[0]["universe"] == len(genes["fulv_sens"])
    # The bootstrap refits that fixed gene matrix: the same as doing it by hand.
    matrix = collapse_to_genes(expr.loc[_expressed(expr, 6.0, 3)], read_annotation(path))
    pd.testing.assert_frame_equal(out.expression, matrix)
    by_hand = _analyze_by_hand(genes, out.result.spec, matrix, samples)
    pd.testing.assert_frame_equal(out.result.bootstrap, by_hand.bootstrap)
    # Tables made without the filter do not match the filtered matrix.
    unfiltered = {c: t.genes for c, t in _tables(experiment, annotation=path).items()}
    with pytest.raises(ConfigError, match=r"same differential_expression\.filter"):
        restoration_outputs(unfiltered, expr, samples, filter=FILTER, **kwargs)


def test_contrast_refit_with_features_fits_exactly_that_set(experiment):
    expr, samples, _, _ = experiment
    kept = _expressed(expr, 6.0, 3)
    contrast = {"fulv_sens": CONTRASTS["fulv_sens"]}
    refit = ContrastRefit(
        design=DesignSpec(factors=FACTORS), contrasts=contrast, features=tuple(kept)
    )
    # A resample (arrays drawn again) of the full matrix: the filter is not
    # re-applied to it, the feature set stays the one chosen on all arrays.
    picked = [0, 0, 1, *range(3, 24)]
    resampled = expr.iloc[:, picked].set_axis([f"a{i}" for i in range(24)], axis=1)
    sheet = samples.iloc[picked].assign(sample=[f"a{i}" for i in range(24)])
    table = refit(resampled, sheet)["fulv_sens"]
    assert set(table.index) == set(kept)
    direct = differential_expression(
        resampled.loc[kept], sheet, factors=FACTORS, contrasts=contrast
    )["fulv_sens"]
    pd.testing.assert_frame_equal(table, direct)
    with pytest.raises(ConfigError, match="fixed features are not in the expression matrix"):
        refit(expr.drop(index=kept[:2]), samples)
