"""What the workflow's rules compute, as plain Python functions.

Every rule of ``workflow/rules/*.smk`` that needs more than one package call
has one function here; its script in ``workflow/scripts/`` only reads the
inputs, calls that function and writes the outputs.  The settings are the
typed objects :func:`sigrestore.config.check_config` resolved once
(:class:`~sigrestore.diffexp.DESettings`,
:class:`~sigrestore.restoration.ComparisonSpec`); the rules pass them on.

The workflow computes each level's feature matrix once
(:func:`level_matrices`: ``results/normalized/{probeset,gene}.parquet``) and
the diffexp and restoration jobs read it (:func:`fit_contrast_tables`,
:func:`analyze_restoration`).  The one-call functions below do all of it on
in-memory data::

    tables = contrast_tables(expr, samples, contrast="drug", contrasts={"drug": "a - b"},
                             factors=["treatment"], annotation="annot.csv")
    out = restoration_outputs({"ref": ref_table, "res": res_table}, expr, samples,
                              comparison={"name": "x", "reference": "ref",
                                          "restoration": "res", "level": "gene"},
                              seed=1, contrasts={...}, factors=[...],
                              annotation="annot.csv")
    out.write("results/restoration/x")      # or out.write_to({"summary": ..., ...})

Levels (the ``level`` key of a comparison)
-------------------------------------------
``"gene"``
    The features are genes: the tables are limma on the expression matrix
    collapsed to genes (:func:`sigrestore.annotation.collapse_to_genes`, which
    drops AFFX- controls, probe sets without a gene and multi-gene ``A /// B``
    probe sets), and the heatmap and the bootstrap use that same gene matrix.
    The matrix is collapsed once, on all arrays; the bootstrap resamples its
    arrays and refits, so the probe set chosen for a gene is fixed from the
    full data (it is not re-chosen within each resample).
``"probeset"``
    The features are probe sets, minus the AFFX- control probe sets
    (:func:`sigrestore.annotation.is_control_probe_set`), which are neither in
    the signature nor in the hypergeometric universe.  The refits of the
    bootstrap still fit every probe set, controls included, so their
    moderation is that of the differential-expression step; the controls are
    dropped from the refitted tables.

Expression filter (``differential_expression.filter``, off by default)
-----------------------------------------------------------------------
When enabled, probe sets not expressed (log2 value ``>= min_expr``) on at
least ``min_samples`` arrays (default: the smallest group of the design) are
dropped before any fit (:func:`filter_probe_sets`, which calls
:func:`sigrestore.diffexp.filter_expressed`).  The filter is applied once, to
the probe-set matrix on all arrays, and:

* the probe-set tables have only the kept probe sets (BH over fewer tests;
  the empirical-Bayes prior from the kept probe sets only);
* at gene level the *probe sets* are filtered before they are collapsed to
  genes (the usual practice: a gene survives when one of its probe sets is
  expressed, and the collapse chooses among expressed probe sets only);
* the restoration filters the same way, so its matrix and the tables share
  one feature set, and the bootstrap's refits (:class:`ContrastRefit` with
  ``features``) keep that set fixed: the filter is not re-applied to the
  resampled arrays.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sigrestore.annotation import (
    AnnotationLike,
    annotate_table,
    check_platform,
    collapse_to_genes,
    collapse_with_weights,
    drop_controls,
    level_expression,
    load_annotation,
)
from sigrestore.diffexp import (
    DESettings,
    DesignSpec,
    ExpressionFilter,
    FilterSummary,
    LimmaOptions,
    filter_probe_sets,
)
from sigrestore.errors import ConfigError
from sigrestore.restoration import ComparisonSpec

if TYPE_CHECKING:  # the analysis (scipy, statsmodels) is imported when used
    from sigrestore.restoration import RestorationResult

__all__ = [
    "ContrastRefit",
    "ContrastTables",
    "ExpressionFilter",
    "FilterSummary",
    "LevelMatrices",
    "RestorationOutputs",
    "analyze_restoration",
    "contrast_tables",
    "drop_controls",
    "filter_probe_sets",
    "fit_contrast_tables",
    "gene_level_matrix",
    "level_expression",
    "level_matrices",
    "level_tables",
    "load_annotation",
    "restoration_outputs",
]


def _settings(de: DESettings | None, options: Mapping[str, Any]) -> DESettings:
    """``de`` itself, or the settings of the legacy keyword arguments."""
    if de is not None:
        if options:
            raise ConfigError(f"give de= or the keyword options, not both ({sorted(options)})")
        return de
    if "factors" not in options:
        raise ConfigError("the design factors are needed (de= or factors=)")
    return DESettings.from_options(**options)


# --------------------------------------------------------------------------- feature matrices


@dataclass(frozen=True)
class LevelMatrices:
    """The feature matrix of each level, computed once on all arrays.

    Attributes
    ----------
    probeset : DataFrame
        Probe sets x arrays after the expression filter (controls included:
        they are fitted, so the moderation sees the same features as always).
    gene : DataFrame or None
        ``probeset`` collapsed to genes (None without an annotation).
    filtered : FilterSummary or None
        What the expression filter removed (None when it is off).
    """

    probeset: pd.DataFrame
    gene: pd.DataFrame | None = None
    filtered: FilterSummary | None = None

    def at(self, level: str) -> pd.DataFrame:
        """The matrix of ``level`` (``"gene"`` or ``"probeset"``)."""
        if level == "probeset":
            return self.probeset
        if level == "gene" and self.gene is not None:
            return self.gene
        raise ConfigError(f"no {level!r}-level matrix (gene level needs an annotation)")


def level_matrices(
    expression: pd.DataFrame,
    samples: pd.DataFrame,
    de: DESettings,
    *,
    annotation: AnnotationLike = None,
) -> LevelMatrices:
    """The expression filter, then the gene collapse: each level's matrix.

    Probe sets are filtered before the collapse: a gene is kept when one of
    its probe sets is expressed, and the collapse chooses among those.
    """
    kept, summary = filter_probe_sets(
        expression, samples, factors=de.design.factors, filter=de.filter
    )
    frame = load_annotation(annotation)
    genes = None if frame is None else collapse_to_genes(kept, frame, method=de.collapse)
    return LevelMatrices(probeset=kept, gene=genes, filtered=summary)


@dataclass(frozen=True)
class GeneLevel:
    """The gene matrix of the feature_matrices rule, with what a weighted source needs.

    Attributes
    ----------
    matrix : DataFrame
        Genes x arrays (index ``gene_symbol``).
    weights : DataFrame or None
        The observation weights of the chosen rows (voom's), indexed like
        ``matrix``; None for an unweighted source.
    rows : Series or None
        The feature chosen for each gene (index ``gene_symbol``); None with
        the ``mean`` collapse of an unweighted source.
    """

    matrix: pd.DataFrame
    weights: pd.DataFrame | None = None
    rows: pd.Series | None = None


def gene_level_matrix(
    probesets: pd.DataFrame,
    features: pd.DataFrame,
    *,
    collapse: str,
    weights: pd.DataFrame | None = None,
) -> GeneLevel:
    """The gene-level matrix from the (filtered) feature matrix (the feature_matrices rule).

    Without ``weights``: :func:`sigrestore.annotation.collapse_to_genes`.  With
    observation weights (the count source: voom's): one row per gene symbol,
    the one with the highest mean log-CPM (``max_mean``, or ``max_iqr``), with
    its weights row (:func:`sigrestore.annotation.collapse_with_weights`).

    ``none`` keeps the rows (and their weights) as they are.

    Raises
    ------
    ConfigError
        Weights with ``collapse: mean`` (an average of rows has no voom weights).
    """
    if weights is None:
        return GeneLevel(collapse_to_genes(probesets, features, method=collapse))
    if collapse == "none":  # the rows themselves are the "genes", weights unchanged
        rows = pd.Series(probesets.index, index=probesets.index, name="row")
        return GeneLevel(probesets.copy(), observation_weights(weights, probesets), rows)
    if collapse not in ("max_mean", "max_iqr"):
        raise ConfigError(
            f"differential_expression.collapse: {collapse!r} cannot carry the count source's"
            " voom weights to genes; use max_mean (the row with the highest mean log-CPM,"
            " the default) or max_iqr"
        )
    genes, gene_weights, rows = collapse_with_weights(probesets, weights, features, method=collapse)
    return GeneLevel(genes, gene_weights, rows)


# --------------------------------------------------------------------------- diffexp rule


@dataclass(frozen=True)
class ContrastTables:
    """limma tables of one contrast.

    Attributes
    ----------
    probesets : DataFrame
        Probe-set table (all probe sets, controls included), with
        ``gene_symbol`` and ``entrez_id`` columns first when annotated.
    genes : DataFrame or None
        Gene-level table (limma on the gene-collapsed matrix); None without an
        annotation.
    filtered : FilterSummary or None
        What the expression filter removed before the fit; None when it is off.
    """

    probesets: pd.DataFrame
    genes: pd.DataFrame | None = None
    filtered: FilterSummary | None = None


@dataclass(frozen=True)
class ContrastRefit:
    """The differential-expression fit of the pipeline as ``refit(expr, samples, weights=None)``.

    The bootstrap's ``de_function``: the same model and options as the
    differential-expression step, refitted on resampled arrays.  With
    ``exclude_controls`` the AFFX- control probe sets are fitted (so the
    moderation sees the same features as the step's tables) but dropped from
    the returned tables.  With ``features`` every refit uses exactly those rows
    (the features the expression filter kept on all arrays), so the feature set
    and hence the moderation's population stay fixed across resamples.

    Attributes
    ----------
    contrasts : mapping
        Contrast name -> expression, one table each.
    design : DesignSpec
        The model (factors, covariates, block).
    limma : LimmaOptions
        eBayes, TREAT and array-weight options.
    exclude_controls : bool
        Drop AFFX- control probe sets from the tables.
    features : tuple of str, optional
        The fixed feature set (row labels) to fit; None fits every row given.
    """

    contrasts: Mapping[str, str]
    design: DesignSpec
    limma: LimmaOptions = field(default_factory=LimmaOptions)
    exclude_controls: bool = False
    features: tuple[str, ...] | None = None

    @classmethod
    def from_settings(
        cls,
        de: DESettings,
        contrasts: Mapping[str, str],
        *,
        exclude_controls: bool = False,
        features: tuple[str, ...] | None = None,
    ) -> ContrastRefit:
        """The refit of the settings ``de`` for ``contrasts``."""
        return cls(
            contrasts=dict(contrasts),
            design=de.design,
            limma=de.limma,
            exclude_controls=exclude_controls,
            features=features,
        )

    def __call__(
        self,
        expr: pd.DataFrame,
        samples: pd.DataFrame,
        weights: Sequence[float] | np.ndarray | None = None,
    ) -> dict[str, pd.DataFrame]:
        """One table per contrast of the fit of ``expr`` (arrays weighted by ``weights``)."""
        if self.features is not None:
            expr = self._fixed_features(expr)
        # Imported here: limma's fit (pylimma, scipy.stats: half a second) is
        # not needed by the jobs that only build the feature matrices.
        from sigrestore.diffexp import differential_expression

        tables = differential_expression(
            expr,
            samples,
            contrasts=dict(self.contrasts),
            weights=weights,
            **self.design.keywords(),
            **self.limma.keywords(),
        )
        if self.exclude_controls:
            tables = {name: drop_controls(table) for name, table in tables.items()}
        return tables

    def _fixed_features(self, expr: pd.DataFrame) -> pd.DataFrame:
        features = pd.Index(self.features)
        if expr.index.equals(features):
            return expr
        missing = features.difference(expr.index)
        if len(missing):
            raise ConfigError(
                f"refit: {len(missing)} of the fixed features are not in the expression"
                f" matrix (e.g. {list(missing[:3])})"
            )
        return expr.loc[features]


def observation_weights(weights: pd.DataFrame, expr: pd.DataFrame) -> pd.DataFrame:
    """The rows and columns of ``weights`` that ``expr`` has (a filtered subset).

    Raises
    ------
    ConfigError
        Features or samples of ``expr`` without weights.
    """
    missing = expr.index.difference(weights.index)
    if len(missing):
        raise ConfigError(
            f"observation weights: {len(missing)} feature(s) of the matrix have none"
            f" (e.g. {list(missing[:3])})"
        )
    absent = [c for c in expr.columns if c not in weights.columns]
    if absent:
        raise ConfigError(f"observation weights: no column for sample(s) {absent[:5]}")
    return weights.loc[expr.index, list(expr.columns)]


def fit_contrast_tables(
    matrices: LevelMatrices,
    samples: pd.DataFrame,
    de: DESettings,
    *,
    contrasts: Mapping[str, str],
    features: pd.DataFrame | None = None,
    weights: pd.DataFrame | None = None,
    gene_weights: pd.DataFrame | None = None,
) -> dict[str, ContrastTables]:
    """The tables of every contrast from the level matrices (the diffexp rule).

    One fit per level serves every contrast: the model is the cell-means fit
    over all arrays, and limma's moderation of one contrast does not depend
    on the others, so the tables equal those of one fit per contrast.

    Parameters
    ----------
    matrices : LevelMatrices
        From :func:`level_matrices` (or the workflow's parquet files).
    samples : DataFrame
        Sample sheet.
    de : DESettings
        The design and limma options.
    contrasts : mapping
        Contrast name -> expression over group names; one entry of the result
        per contrast, in this order.
    features : DataFrame, optional
        Probe-set annotation (``gene_symbol``, ``entrez_id``) for the gene
        columns of the probe-set table; needed when ``matrices.gene`` is given.
    weights : DataFrame, optional
        Observation weights of the source (voom's) for every feature of the
        unfiltered matrix; the rows of ``matrices.probeset`` are taken from it.
    gene_weights : DataFrame, optional
        The weights of ``matrices.gene``'s rows (:func:`gene_level_matrix`);
        required with ``weights`` when there is a gene matrix.

    Returns
    -------
    dict of str to ContrastTables
    """
    if not contrasts:
        raise ConfigError("no contrast to fit")
    if weights is not None and matrices.gene is not None and gene_weights is None:
        raise ConfigError("a weighted source's gene matrix needs its weights (gene_weights)")
    probesets = level_tables(
        matrices.probeset, samples, de, contrasts=contrasts, features=features, weights=weights
    )
    if matrices.gene is None:
        return {
            c: ContrastTables(probesets=probesets[c], filtered=matrices.filtered) for c in contrasts
        }
    if features is None:
        raise ConfigError("gene-level tables need the probe-set annotation (features)")
    genes = level_tables(matrices.gene, samples, de, contrasts=contrasts, weights=gene_weights)
    return {
        c: ContrastTables(probesets=probesets[c], genes=genes[c], filtered=matrices.filtered)
        for c in contrasts
    }


def level_tables(
    matrix: pd.DataFrame,
    samples: pd.DataFrame,
    de: DESettings,
    *,
    contrasts: Mapping[str, str],
    features: pd.DataFrame | None = None,
    weights: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """limma tables of ``contrasts`` from one level's matrix: what the diffexp rule writes.

    The diffexp rule writes them (:func:`fit_contrast_tables`) and the
    restoration rule fits its comparison's contrasts with this same function
    rather than waiting for the diffexp job: limma moderates each contrast on
    its own, so the tables are identical.

    Parameters
    ----------
    matrix : DataFrame
        The level's matrix (probe sets or genes x arrays).
    samples : DataFrame
        Sample sheet.
    de : DESettings
        The design and limma options.
    contrasts : mapping
        Contrast name -> expression; one table each.
    features : DataFrame, optional
        Probe-set annotation: its ``gene_symbol`` and ``entrez_id`` columns
        come first in each table (probe-set level).
    weights : DataFrame, optional
        Observation weights (voom's) covering the matrix's rows and arrays.
    """
    fit = ContrastRefit.from_settings(de, contrasts)
    w = None if weights is None else observation_weights(weights, matrix)
    tables = fit(matrix, samples) if w is None else fit(matrix, samples, weights=w)
    if features is None:
        return {c: tables[c] for c in contrasts}
    gene_columns = features.reindex(columns=["gene_symbol", "entrez_id"])
    return {c: annotate_table(tables[c], gene_columns) for c in contrasts}


def contrast_tables(
    expression: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    contrast: str,
    contrasts: Mapping[str, str],
    de: DESettings | None = None,
    annotation: AnnotationLike = None,
    **options: Any,
) -> ContrastTables:
    """The tables of the differential-expression rule for one contrast, in one call.

    Parameters
    ----------
    expression : DataFrame
        Probe sets x arrays (log2, e.g. RMA), columns = sample names.
    samples : DataFrame
        Sample sheet (``sample`` column and the design columns).
    contrast : str
        The contrast to report; a key of ``contrasts``.
    contrasts : mapping
        Contrast name -> expression over group names (the config's
        ``contrasts``, or just the one needed).
    de : DESettings, optional
        The design and limma options, as :func:`sigrestore.config.check_config`
        resolves them.  Instead, the keywords of
        :meth:`~sigrestore.diffexp.DESettings.from_options` may be given
        (``factors``, ``covariates``, ``block``, ``trend``, ``robust``,
        ``treat_lfc``, ``array_weights``, ``collapse``, ``filter``).
    annotation : DataFrame, path or None
        Probe-set annotation (:func:`sigrestore.annotation.read_annotation`);
        with it the probe-set table gets gene columns and a gene table is made.

    Returns
    -------
    ContrastTables
    """
    settings = _settings(de, options)
    if contrast not in contrasts:
        raise ConfigError(f"contrast {contrast!r} is not one of {sorted(contrasts)}")
    frame = load_annotation(annotation)
    matrices = level_matrices(expression, samples, settings, annotation=frame)
    if frame is not None:
        check_platform(matrices.probeset.index, frame)
    tables = fit_contrast_tables(
        matrices, samples, settings, contrasts={contrast: contrasts[contrast]}, features=frame
    )
    return tables[contrast]


# --------------------------------------------------------------------------- restoration rule

#: The tables a comparison's result is written as (workflow output names;
#: :func:`sigrestore.restoration.analysis.result_tables`).
RESULT_TABLES = ("summary", "features", "bootstrap", "threshold_sensitivity", "headline")


@dataclass
class RestorationOutputs:
    """One comparison's result and the matrix its figures and bootstrap used.

    Attributes
    ----------
    result : RestorationResult
    expression : DataFrame
        Features x arrays at the comparison's level (the gene matrix at gene
        level, the probe-set matrix at probe-set level).
    samples : DataFrame
        The sample sheet.
    filtered : FilterSummary or None
        What the expression filter removed (None when it is off).
    """

    result: RestorationResult
    expression: pd.DataFrame = field(repr=False)
    samples: pd.DataFrame = field(repr=False)
    filtered: FilterSummary | None = None

    def write_to(self, paths: Mapping[str, Any]) -> list[Path]:
        """Write exactly the files named in ``paths`` (e.g. ``snakemake.output``).

        ``paths`` maps a table name (:data:`RESULT_TABLES`: ``summary``,
        ``features``, ``bootstrap``, ``threshold_sensitivity``, ``headline``)
        to its path, and a figure name (``headline``, ``scatter``, ``status``,
        ``heatmap``, ``enrichment``, ``overlap``, ``sensitivity``) with a
        suffix per format (``scatter_png``, ``scatter_svg``, ``scatter_pdf``) to its files.
        Names not given are not written; a name given that the result cannot
        make is an error.
        """
        from sigrestore.plotting.restoration import restoration_figures
        from sigrestore.plotting.save import FIGURE_FORMATS, save_figure
        from sigrestore.restoration.analysis import result_tables, write_result_table

        keys = set(paths.keys())
        written: list[Path] = []
        tables = result_tables(self.result)
        for name, table in tables.items():
            if name in keys:
                write_result_table(name, table, paths[name])
                written.append(Path(paths[name]))
        makers = restoration_figures(self.result, expr=self.expression, samples=self.samples)
        figure_keys = {f"{name}_{fmt}": name for name in makers for fmt in FIGURE_FORMATS}
        unknown = sorted(keys - set(tables) - set(figure_keys))
        if unknown:
            raise ConfigError(
                f"restoration outputs: no figure named {unknown} (nor a table: {sorted(tables)})"
            )
        for name, make in makers.items():
            files = [paths[k] for k in sorted(keys) if figure_keys.get(k) == name]
            if files:
                written += [Path(p) for p in save_figure(make(), files, tight=False)]
        return written

    def write(
        self, outdir: str | os.PathLike[str], *, formats: Sequence[str] | None = None
    ) -> list[Path]:
        """Write every table and figure into ``outdir`` under their usual names.

        ``formats``: the figures' formats (default: the schema's ``figures.formats``).
        """
        from sigrestore.plotting.restoration import restoration_figures
        from sigrestore.plotting.save import DEFAULT_FIGURE_FORMATS

        outdir = Path(outdir)
        paths: dict[str, Any] = {name: outdir / f"{name}.tsv" for name in RESULT_TABLES}
        for name in restoration_figures(self.result, expr=self.expression, samples=self.samples):
            for fmt in formats or DEFAULT_FIGURE_FORMATS:
                paths[f"{name}_{fmt}"] = outdir / f"{name}.{fmt}"
        return self.write_to(paths)


def analyze_restoration(
    tables: Mapping[str, pd.DataFrame | str | os.PathLike[str]],
    matrix: pd.DataFrame,
    samples: pd.DataFrame,
    spec: ComparisonSpec,
    de: DESettings,
    *,
    contrasts: Mapping[str, str],
    filtered: FilterSummary | None = None,
    counts: Any = None,
    rows: pd.Series | None = None,
    prepared_counts: Any = None,
) -> RestorationOutputs:
    """One comparison from its level's matrix (the restoration rule).

    Parameters
    ----------
    tables : mapping
        Contrast name -> limma table (frame or TSV path) of every contrast of
        the comparison, at its level.
    matrix : DataFrame
        The comparison level's matrix, computed once on all arrays
        (:func:`level_matrices`; filtered when the filter is on).
    samples : DataFrame
        Sample sheet.
    spec : ComparisonSpec
        The resolved comparison.
    de : DESettings
        The design and limma options of the differential-expression step.
    contrasts : mapping
        Contrast name -> expression (the config's ``contrasts``).
    filtered : FilterSummary, optional
        What the filter removed (recorded in the outputs).
    counts : sigrestore.sources.counts.CountsSettings, optional
        The count source's settings: the bootstrap refits every resample
        through voom (:func:`sigrestore.sources.counts.refit_for`) on the
        rows of ``matrix``, instead of limma on the fixed log-CPM.
    rows : Series, optional
        With ``counts`` at gene level: the gene id chosen for each gene
        (:func:`gene_level_matrix`), so the refits fit the same rows.
    prepared_counts : sigrestore.sources.counts.PreparedCounts, optional
        With ``counts``: the count job's kept counts and library sizes
        (:func:`sigrestore.sources.counts.prepared_from_outputs`); None reads
        and filters the table again.

    Raises
    ------
    ConfigError
        Tables missing or with features not in ``matrix``, or undefined contrasts.
    """
    loaded = {name: _read_table(t) for name, t in tables.items()}
    missing = [c for c in spec.contrasts if c not in loaded]
    if missing:
        raise ConfigError(f"comparison {spec.name!r}: no table given for contrast(s) {missing}")
    loaded = {c: loaded[c] for c in spec.contrasts}
    for name, table in loaded.items():
        absent = table.index.difference(matrix.index)
        if len(absent):
            raise ConfigError(
                f"comparison {spec.name!r} (level {spec.level!r}): the table of contrast"
                f" {name!r} has {len(absent)} feature(s) not in the {spec.level}-level"
                f" expression matrix (e.g. {list(absent[:3])}); give the"
                f" {'.genes.tsv' if spec.level == 'gene' else 'probe-set'} tables made"
                " with the same differential_expression.filter"
            )
    undefined = [c for c in spec.contrasts if c not in contrasts]
    if undefined:
        raise ConfigError(f"comparison {spec.name!r}: contrast(s) {undefined} are not defined")
    exclude = spec.level == "probeset"
    if exclude:
        loaded = {name: drop_controls(table) for name, table in loaded.items()}
    used = {c: contrasts[c] for c in spec.contrasts}
    if counts is not None:
        from sigrestore.sources.counts import refit_for

        if spec.level == "gene" and rows is None:
            raise ConfigError(
                f"comparison {spec.name!r}: the count source's gene level needs the chosen"
                " row of each gene (results/normalized/gene_rows.tsv)"
            )
        refit = refit_for(
            counts,
            samples,
            contrasts=used,
            design=de.design,
            limma=de.limma,
            rows=rows if spec.level == "gene" else None,
            prepared=prepared_counts,
        )
    else:
        refit = ContrastRefit.from_settings(
            de,
            used,
            exclude_controls=exclude,
            # The filter's features stay fixed across the bootstrap's resamples.
            features=tuple(matrix.index) if de.filter.enabled else None,
        )
    from sigrestore.restoration import analyze_comparison

    result = analyze_comparison(
        loaded,
        spec,
        expr=matrix,
        samples=samples,
        de_function=refit,
        factors=list(de.design.factors),
    )
    return RestorationOutputs(result=result, expression=matrix, samples=samples, filtered=filtered)


def restoration_outputs(
    tables: Mapping[str, pd.DataFrame | str | os.PathLike[str]],
    expression: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    comparison: ComparisonSpec | Mapping[str, Any],
    contrasts: Mapping[str, str],
    de: DESettings | None = None,
    annotation: AnnotationLike = None,
    seed: int | None = None,
    **options: Any,
) -> RestorationOutputs:
    """The restoration rule in one call: one comparison analysed at its level.

    Parameters
    ----------
    tables : mapping
        Contrast name -> limma table (a frame or the path of a TSV written by
        the differential-expression step) of every contrast the comparison
        uses: the ``.genes.tsv`` tables at gene level, the probe-set tables
        at probe-set level.
    expression : DataFrame
        The probe-set expression matrix (probe sets x arrays); filtered and,
        at gene level, collapsed here (:func:`level_matrices`).
    samples : DataFrame
        Sample sheet.
    comparison : ComparisonSpec or mapping
        The comparison; a mapping is a config entry, resolved with
        :func:`sigrestore.config.comparison_spec` (``seed`` and whether an
        annotation is given fill in its nulls).
    contrasts : mapping
        Contrast name -> expression (the config's ``contrasts``); the
        bootstrap refits those of the comparison.
    de : DESettings, optional
        The design and limma options; or their keywords, as for
        :func:`contrast_tables`.
    annotation : DataFrame, path or None
        Needed at gene level.
    seed : int, optional
        The config's seed (needed when ``comparison`` is a mapping).

    Returns
    -------
    RestorationOutputs

    Raises
    ------
    ConfigError
        Gene level without an annotation, or tables whose features are not
        those of the matrix at the comparison's level (e.g. probe-set tables
        given at gene level).
    """
    settings = _settings(de, options)
    frame = load_annotation(annotation)
    if isinstance(comparison, ComparisonSpec):
        spec = comparison
    else:
        from sigrestore.config import comparison_spec

        if seed is None:
            raise ConfigError("restoration_outputs: seed is needed to resolve a config entry")
        spec = comparison_spec(comparison, seed=seed, has_annotation=frame is not None)
    kept, summary = filter_probe_sets(
        expression, samples, factors=settings.design.factors, filter=settings.filter
    )
    matrix = level_expression(kept, level=spec.level, annotation=frame, collapse=settings.collapse)
    return analyze_restoration(
        tables, matrix, samples, spec, settings, contrasts=contrasts, filtered=summary
    )


def _read_table(table: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    return pd.read_csv(table, sep="\t", index_col=0)
