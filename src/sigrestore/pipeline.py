"""What the workflow's rules compute, as plain Python functions.

Every rule of ``workflow/rules/*.smk`` that needs more than one package call
has one function here; its script in ``workflow/scripts/`` only reads the
inputs, calls that function and writes the outputs.  So everything the
pipeline does can be run from Python on in-memory data::

    tables = contrast_tables(expr, samples, contrast="drug", contrasts={"drug": "a - b"},
                             factors=["treatment"], annotation="annot.csv")
    out = restoration_outputs({"ref": ref_table, "res": res_table}, expr, samples,
                              comparison={"name": "x", "reference": "ref",
                                          "restoration": "res", "level": "gene"},
                              seed=1, contrasts={...}, factors=[...],
                              annotation="annot.csv")
    out.write("results/restoration/x")

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
from typing import Any

import numpy as np
import pandas as pd

from sigrestore.annotation import (
    annotate_table,
    collapse_to_genes,
    is_control_probe_set,
    read_annotation,
)
from sigrestore.diffexp import build_design, differential_expression, filter_expressed
from sigrestore.errors import ConfigError
from sigrestore.restoration import ComparisonSpec, RestorationResult, analyze_comparison

__all__ = [
    "ContrastRefit",
    "ContrastTables",
    "ExpressionFilter",
    "FilterSummary",
    "RestorationOutputs",
    "contrast_tables",
    "drop_controls",
    "filter_probe_sets",
    "level_expression",
    "load_annotation",
    "restoration_outputs",
]

AnnotationLike = pd.DataFrame | str | os.PathLike[str] | None


def load_annotation(annotation: AnnotationLike) -> pd.DataFrame | None:
    """An annotation frame from a frame, a file path, or nothing (None or ``""``)."""
    if annotation is None or isinstance(annotation, pd.DataFrame):
        return annotation
    if not str(annotation):
        return None
    return read_annotation(annotation)


def drop_controls(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without its AFFX- control probe sets (rows)."""
    return table.loc[~is_control_probe_set(table.index)]


# --------------------------------------------------------------------------- expression filter

FILTER_KEY = "differential_expression.filter"


@dataclass(frozen=True)
class ExpressionFilter:
    """The config's ``differential_expression.filter`` section.

    Attributes
    ----------
    enabled : bool
        Apply the filter (off by default).
    min_expr : float
        Threshold on the log2 scale; a probe set is expressed on an array when
        its value is at least this (4.0: a usual cut-off for RMA values).
    min_samples : int or None
        Arrays on which a probe set must be expressed; None means the size of
        the smallest group of the design (so a probe set expressed in one
        group only is kept).
    """

    enabled: bool = False
    min_expr: float = 4.0
    min_samples: int | None = None

    @classmethod
    def from_options(cls, options: ExpressionFilter | Mapping[str, Any] | None) -> ExpressionFilter:
        """The filter of a config section (mapping), of an ExpressionFilter, or None (off)."""
        if options is None:
            return cls()
        if isinstance(options, cls):
            return options
        unknown = sorted(set(options) - {"enabled", "min_expr", "min_samples"})
        if unknown:
            raise ConfigError(f"config key {FILTER_KEY}: unknown key(s) {unknown}")
        return cls(**options)


@dataclass(frozen=True)
class FilterSummary:
    """What the expression filter did (printed to the job logs).

    Attributes
    ----------
    n_input, n_removed : int
        Probe sets before the filter and probe sets it removed.
    min_expr : float
        The threshold used.
    min_samples : int
        The number of arrays used (resolved from the smallest group when the
        config leaves it null).
    """

    n_input: int
    n_removed: int
    min_expr: float
    min_samples: int

    @property
    def n_kept(self) -> int:
        """Probe sets left for the fit."""
        return self.n_input - self.n_removed

    def __str__(self) -> str:
        return (
            f"expression filter: removed {self.n_removed} of {self.n_input} probe sets;"
            f" kept {self.n_kept} with log2 expression >= {self.min_expr:g} on at least"
            f" {self.min_samples} arrays for the fit"
        )


def filter_probe_sets(
    expression: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    factors: Sequence[str],
    filter: ExpressionFilter | Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, FilterSummary | None]:
    """Apply the config's expression filter to the probe-set matrix.

    Parameters
    ----------
    expression : DataFrame
        Probe sets x arrays, log2 scale, all arrays of the experiment.
    samples : DataFrame
        Sample sheet (the design ``factors`` give the groups that set the
        default ``min_samples``).
    factors : sequence of str
        The config's ``design.factors``.
    filter : ExpressionFilter, mapping or None
        The ``differential_expression.filter`` section; None or
        ``enabled: false`` leaves ``expression`` as it is.

    Returns
    -------
    (DataFrame, FilterSummary or None)
        The kept rows (original order) and what was removed; the summary is
        None when the filter is off.

    Raises
    ------
    ConfigError
        A threshold :func:`~sigrestore.diffexp.filter_expressed` refuses, or a
        filter that removes every probe set.
    """
    options = ExpressionFilter.from_options(filter)
    if not options.enabled:
        return expression, None
    min_samples = options.min_samples
    if min_samples is None:
        groups = build_design(samples, factors=list(factors)).groups
        min_samples = int(groups.value_counts().min())
    try:
        kept = filter_expressed(expression, min_expr=options.min_expr, min_samples=min_samples)
    except ConfigError as exc:
        raise ConfigError(f"config key {FILTER_KEY}: {exc}") from None
    summary = FilterSummary(
        n_input=len(expression),
        n_removed=len(expression) - len(kept),
        min_expr=float(options.min_expr),
        min_samples=int(min_samples),
    )
    if kept.empty:
        raise ConfigError(
            f"config key {FILTER_KEY}: no probe set is >= {options.min_expr:g} on at least"
            f" {min_samples} arrays; lower min_expr or min_samples"
        )
    return kept, summary


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
    factors, contrasts, covariates, block, trend, robust, treat_lfc, array_weights
        As :func:`sigrestore.diffexp.differential_expression` takes them.
    exclude_controls : bool
        Drop AFFX- control probe sets from the tables.
    features : tuple of str, optional
        The fixed feature set (row labels) to fit; None fits every row given.
    """

    factors: Sequence[str]
    contrasts: Mapping[str, str]
    covariates: Sequence[str] = ()
    block: str | None = None
    trend: bool = False
    robust: bool = False
    treat_lfc: float = 0.0
    array_weights: bool = False
    exclude_controls: bool = False
    features: tuple[str, ...] | None = None

    def __call__(
        self,
        expr: pd.DataFrame,
        samples: pd.DataFrame,
        weights: Sequence[float] | np.ndarray | None = None,
    ) -> dict[str, pd.DataFrame]:
        """One table per contrast of the fit of ``expr`` (arrays weighted by ``weights``)."""
        if self.features is not None:
            expr = self._fixed_features(expr)
        tables = differential_expression(
            expr,
            samples,
            factors=list(self.factors),
            contrasts=dict(self.contrasts),
            covariates=list(self.covariates),
            block=self.block,
            trend=self.trend,
            robust=self.robust,
            treat_lfc=self.treat_lfc,
            array_weights=self.array_weights,
            weights=weights,
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


def contrast_tables(
    expression: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    contrast: str,
    contrasts: Mapping[str, str],
    factors: Sequence[str],
    covariates: Sequence[str] = (),
    block: str | None = None,
    trend: bool = False,
    robust: bool = False,
    treat_lfc: float = 0.0,
    array_weights: bool = False,
    annotation: AnnotationLike = None,
    collapse: str = "max_mean",
    filter: ExpressionFilter | Mapping[str, Any] | None = None,
) -> ContrastTables:
    """The tables of the differential-expression rule for one contrast.

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
    factors, covariates, block : optional
        The config's ``design`` section.
    trend, robust, treat_lfc, array_weights : optional
        The config's ``differential_expression`` options.
    annotation : DataFrame, path or None
        Probe-set annotation (:func:`sigrestore.annotation.read_annotation`);
        with it the probe-set table gets gene columns and a gene table is made.
    collapse : str
        How probe sets are collapsed to genes (see
        :func:`sigrestore.annotation.collapse_to_genes`).
    filter : ExpressionFilter, mapping or None
        The config's ``differential_expression.filter``: when enabled, probe
        sets not expressed on enough arrays are dropped before the fit (and,
        at gene level, before the collapse); see :func:`filter_probe_sets`.

    Returns
    -------
    ContrastTables
    """
    if contrast not in contrasts:
        raise ConfigError(f"contrast {contrast!r} is not one of {sorted(contrasts)}")
    fit = ContrastRefit(
        factors=factors,
        contrasts={contrast: contrasts[contrast]},
        covariates=covariates,
        block=block,
        trend=trend,
        robust=robust,
        treat_lfc=treat_lfc,
        array_weights=array_weights,
    )
    expression, summary = filter_probe_sets(expression, samples, factors=factors, filter=filter)
    table = fit(expression, samples)[contrast]
    frame = load_annotation(annotation)
    if frame is None:
        return ContrastTables(probesets=table, filtered=summary)
    # Probe sets are filtered before the collapse: a gene is kept when one of
    # its probe sets is expressed, and the collapse chooses among those.
    genes = collapse_to_genes(expression, frame, method=collapse)
    return ContrastTables(
        probesets=annotate_table(table, frame, expression_index=expression.index),
        genes=fit(genes, samples)[contrast],
        filtered=summary,
    )


# --------------------------------------------------------------------------- restoration rule


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

    def write(self, outdir: str | os.PathLike[str]) -> list[Path]:
        """Write the tables (:func:`~sigrestore.restoration.write_result`) and figures."""
        from sigrestore.plotting.restoration import save_restoration_figures
        from sigrestore.restoration import write_result

        written = write_result(self.result, outdir)
        written += save_restoration_figures(
            self.result, outdir, expr=self.expression, samples=self.samples
        )
        return written


def level_expression(
    expression: pd.DataFrame,
    *,
    level: str,
    annotation: AnnotationLike = None,
    collapse: str = "max_mean",
) -> pd.DataFrame:
    """The expression matrix at ``level``: gene-collapsed (``"gene"``) or as is (``"probeset"``)."""
    if level == "probeset":
        return expression
    if level != "gene":
        raise ConfigError(f"level must be 'gene' or 'probeset', got {level!r}")
    frame = load_annotation(annotation)
    if frame is None:
        raise ConfigError("level 'gene' needs an annotation (platform.annotation)")
    if collapse == "none":
        raise ConfigError("level 'gene' needs a collapse method other than 'none'")
    return collapse_to_genes(expression, frame, method=collapse)


def restoration_outputs(
    tables: Mapping[str, pd.DataFrame | str | os.PathLike[str]],
    expression: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    comparison: ComparisonSpec | Mapping[str, Any],
    contrasts: Mapping[str, str],
    factors: Sequence[str],
    covariates: Sequence[str] = (),
    block: str | None = None,
    trend: bool = False,
    robust: bool = False,
    treat_lfc: float = 0.0,
    array_weights: bool = False,
    annotation: AnnotationLike = None,
    collapse: str = "max_mean",
    filter: ExpressionFilter | Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> RestorationOutputs:
    """The restoration rule: one comparison analysed at its level, bootstrap included.

    Parameters
    ----------
    tables : mapping
        Contrast name -> limma table (a frame or the path of a TSV written by
        the differential-expression step) of every contrast the comparison
        uses: the ``.genes.tsv`` tables at gene level, the probe-set tables
        at probe-set level.
    expression : DataFrame
        The probe-set expression matrix (probe sets x arrays); collapsed to
        genes here at gene level.
    samples : DataFrame
        Sample sheet.
    comparison : ComparisonSpec or mapping
        The comparison; a mapping is a config entry, resolved with
        :func:`sigrestore.config.comparison_spec` (``seed`` and whether an
        annotation is given fill in its nulls).
    contrasts : mapping
        Contrast name -> expression (the config's ``contrasts``); the
        bootstrap refits those of the comparison.
    factors, covariates, block, trend, robust, treat_lfc, array_weights
        The design and limma options of the differential-expression step.
    annotation : DataFrame, path or None
        Needed at gene level.
    collapse : str
        The collapse method of the gene tables (same as the step's).
    filter : ExpressionFilter, mapping or None
        The step's expression filter: applied once to the probe-set matrix on
        all arrays (before the collapse at gene level); the bootstrap's refits
        keep the resulting feature set fixed.
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
    frame = load_annotation(annotation)
    if isinstance(comparison, ComparisonSpec):
        spec = comparison
    else:
        from sigrestore.config import comparison_spec

        if seed is None:
            raise ConfigError("restoration_outputs: seed is needed to resolve a config entry")
        spec = comparison_spec(comparison, seed=seed, has_annotation=frame is not None)
    expression, summary = filter_probe_sets(expression, samples, factors=factors, filter=filter)
    matrix = level_expression(expression, level=spec.level, annotation=frame, collapse=collapse)
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
    refit = ContrastRefit(
        factors=factors,
        contrasts={c: contrasts[c] for c in spec.contrasts},
        covariates=covariates,
        block=block,
        trend=trend,
        robust=robust,
        treat_lfc=treat_lfc,
        array_weights=array_weights,
        exclude_controls=exclude,
        features=None if summary is None else tuple(matrix.index),
    )
    result = analyze_comparison(
        loaded, spec, expr=matrix, samples=samples, de_function=refit, factors=list(factors)
    )
    return RestorationOutputs(result=result, expression=matrix, samples=samples, filtered=summary)


def _read_table(table: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table
    return pd.read_csv(table, sep="\t", index_col=0)
