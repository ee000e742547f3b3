"""The RNA-seq count source: a count table + sample sheet -> voom log-CPM with weights.

Steps (edgeR's user-guide workflow, then limma-voom):

1. read the table (:func:`sigrestore.counts.read_count_table`: plain TSV/CSV,
   nf-core salmon, featureCounts, GEO NCBI raw counts), match every sample of
   the sheet to a column and validate the values;
2. ``filterByExpr`` on the groups of the design (``factors``), then library
   sizes recomputed on the kept genes (``keep.lib.sizes = FALSE``);
3. TMM normalisation factors (``calcNormFactors``); effective library size
   = library size x factor;
4. ``voom`` (or ``voomWithQualityWeights``) with the design of ``factors`` and
   ``covariates``: log-CPM ``E`` and observation weights.

The result is an :class:`~sigrestore.dataset.ExpressionDataset` whose
``expression`` is voom's log-CPM (QC, figures and the fit) and ``weights``
voom's weights (passed to :func:`sigrestore.diffexp.differential_expression`
as ``weights=``).  The restoration bootstrap refits through voom with
:class:`VoomRefit`: resampled samples get voom weights recomputed from their
counts, with the filter and the TMM factors of the full data kept fixed.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from sigrestore.counts.normalize import calc_norm_factors, filter_by_expr
from sigrestore.counts.readers import COUNT_FORMATS, has_symbols, read_count_table
from sigrestore.counts.validate import check_counts, match_samples
from sigrestore.counts.voom import VoomResult, voom, voom_with_quality_weights
from sigrestore.dataset import ExpressionDataset
from sigrestore.diffexp import DesignSpec, LimmaOptions, build_design, differential_expression
from sigrestore.errors import ConfigError
from sigrestore.sources._platform_common import resolve

__all__ = [
    "KIND",
    "CountsSettings",
    "PreparedCounts",
    "Settings",
    "VoomRefit",
    "check_inputs",
    "input_files",
    "load",
    "load_counts",
    "prepare_counts",
    "refit_for",
    "settings_from_config",
]

log = logging.getLogger(__name__)

NORMALIZATIONS = ("TMM", "none")


@dataclass(frozen=True)
class CountsSettings:
    """The ``data.counts`` block of the config.

    Attributes
    ----------
    table : str
        The count table (required); relative paths are taken from ``base_dir``.
    format : str
        ``auto`` (recognised from the header), ``table``, ``salmon``,
        ``featurecounts`` or ``geo``.
    annotation : str or None
        GEO NCBI annotation table (``Human.GRCh38.p13.annot.tsv.gz``) giving
        symbols for a ``geo`` table.
    id_column, name_column : str or None
        Plain tables: gene-id column (default the first) and symbol column
        (default one named ``gene_name``/``symbol``/``gene_symbol``/``Symbol``).
    allow_fractional : bool
        Accept non-integer values in a plain table (estimated counts, e.g.
        tximport/length-scaled); salmon tables always may hold them.
    filter : bool
        Apply ``filterByExpr`` (on by default, as edgeR and limma recommend).
    min_count, min_total_count, large_n, min_prop : float
        ``filterByExpr``'s thresholds (edgeR's defaults 10, 15, 10, 0.7).
    normalization : str
        ``TMM`` (default) or ``none`` (library sizes only).
    quality_weights : bool
        ``voomWithQualityWeights`` instead of ``voom`` (down-weights noisy
        samples).
    span : float
        voom's lowess span (0.5).
    """

    table: str
    format: str = "auto"
    annotation: str | None = None
    id_column: str | None = None
    name_column: str | None = None
    allow_fractional: bool = False
    filter: bool = True
    min_count: float = 10.0
    min_total_count: float = 15.0
    large_n: float = 10.0
    min_prop: float = 0.7
    normalization: str = "TMM"
    quality_weights: bool = False
    span: float = 0.5

    def __post_init__(self) -> None:
        if not str(self.table):
            raise ConfigError("data.counts.table: the count table is required")
        if self.format not in COUNT_FORMATS:
            raise ConfigError(
                f"data.counts.format must be one of {list(COUNT_FORMATS)}, got {self.format!r}"
            )
        if self.normalization not in NORMALIZATIONS:
            raise ConfigError(
                f"data.counts.normalization must be one of {list(NORMALIZATIONS)}, "
                f"got {self.normalization!r}"
            )
        for name in ("min_count", "min_total_count", "large_n"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
                raise ConfigError(f"data.counts.{name} must be a number >= 0, got {value!r}")
        if not (isinstance(self.min_prop, int | float) and 0 < self.min_prop <= 1):
            raise ConfigError(f"data.counts.min_prop must be in (0, 1], got {self.min_prop!r}")
        if not (isinstance(self.span, int | float) and 0 < self.span <= 1):
            raise ConfigError(f"data.counts.span must be in (0, 1], got {self.span!r}")

    @property
    def gene_level(self) -> bool:
        """Whether the table (or the GEO annotation) gives gene symbols.

        With symbols the workflow has a gene level, as an annotated array
        source: its rows (gene ids) are collapsed to one row per symbol, the
        voom weights row carried along (:func:`sigrestore.annotation.collapse_with_weights`).
        Without, the table's rows are the only level.  Decided from the
        table's header when the workflow is parsed.
        """
        return has_symbols(
            self.table, format=self.format, name_column=self.name_column, annotation=self.annotation
        )

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> CountsSettings:
        """Settings from the config's ``data.counts`` mapping (unknown keys are errors)."""
        if not isinstance(options, Mapping):
            raise ConfigError("data.counts must be a mapping")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"data.counts: unknown key(s) {unknown}; known keys {sorted(known)}")
        if "table" not in options:
            raise ConfigError("data.counts.table: the count table is required")
        return cls(**dict(options))


@dataclass(frozen=True)
class PreparedCounts:
    """Validated, filtered counts with their normalisation (what voom needs).

    Attributes
    ----------
    counts
        Kept genes x samples (columns = sample names, sheet order), float64.
    lib_size
        Effective library sizes (library size of the kept genes x TMM factor),
        indexed by sample.
    symbols
        Gene symbol per kept gene ("" unknown), or None.
    provenance
        What was read, filtered and normalised.
    entrez
        Entrez GeneID per kept gene (GEO NCBI tables, whose ids they are), or None.
    """

    counts: pd.DataFrame
    lib_size: pd.Series
    symbols: pd.Series | None
    provenance: Mapping[str, Any] = field(default_factory=dict)
    entrez: pd.Series | None = None


def _groups(samples: pd.DataFrame, factors: Sequence[str], covariates: Sequence[str]):
    design = build_design(samples, factors=list(factors), covariates=list(covariates))
    return design.groups.astype(str).to_numpy(), design.matrix.to_numpy(dtype=float)


def prepare_counts(
    settings: CountsSettings,
    samples: pd.DataFrame,
    *,
    factors: Sequence[str],
    covariates: Sequence[str] = (),
    base_dir: str | os.PathLike[str] | None = None,
    sheet_name: str = "sample sheet",
) -> PreparedCounts:
    """Read, validate, filter and TMM-normalise the counts of ``settings``.

    Raises
    ------
    FormatError
        Unreadable table, bad values (file, line, column and gene named),
        duplicate gene ids, a library of size 0, a normalised-looking table.
    ConfigError
        Samples of the sheet absent from the table (all named), or no gene
        passes the filter.
    """
    path = resolve(settings.table, base_dir)
    table = read_count_table(
        path,
        format=settings.format,
        id_column=settings.id_column,
        name_column=settings.name_column,
        annotation=resolve(settings.annotation, base_dir) if settings.annotation else None,
    )
    columns = match_samples(table, samples, sheet_name=sheet_name)
    values = check_counts(table, columns, allow_fractional=settings.allow_fractional)
    names = samples["sample"].astype(str).tolist()
    groups, _ = _groups(samples, factors, covariates)
    genes_in = values.shape[0]
    if settings.filter:
        keep = filter_by_expr(
            values,
            group=groups,
            min_count=settings.min_count,
            min_total_count=settings.min_total_count,
            large_n=settings.large_n,
            min_prop=settings.min_prop,
        )
        if not keep.any():
            raise ConfigError(
                f"{path}: no gene passes filterByExpr (min_count {settings.min_count}, "
                f"min_total_count {settings.min_total_count}, smallest group "
                f"{int(pd.Series(groups).value_counts().min())} samples); check that the "
                "table holds counts, or lower data.counts.min_count / set filter: false"
            )
        values = values[keep]
        gene_ids = table.data.index[keep]
    else:
        gene_ids = table.data.index
    lib = values.sum(axis=0)
    if (lib == 0).any():
        bad = [names[i] for i in np.flatnonzero(lib == 0)]
        raise ConfigError(f"{path}: sample(s) {bad} have no count left after the filter")
    if settings.normalization == "TMM":
        factors_, ref = calc_norm_factors(values, lib)
        reference = names[ref]
    else:
        factors_, reference = np.ones(lib.size), None
    counts = pd.DataFrame(values, index=gene_ids, columns=names)
    symbols = None if table.symbols is None else table.symbols.loc[gene_ids]
    # GEO's NCBI tables are indexed by Entrez GeneID: the tables carry it.
    entrez = pd.Series(gene_ids, index=gene_ids) if table.format == "geo" else None
    provenance = {
        "source": "counts",
        "table": str(path),
        "format": table.format,
        "columns": dict(zip(names, columns, strict=True)),
        "genes_in_table": int(genes_in),
        "genes_kept": int(values.shape[0]),
        "filter": (
            {
                "method": "filterByExpr",
                "min_count": settings.min_count,
                "min_total_count": settings.min_total_count,
                "large_n": settings.large_n,
                "min_prop": settings.min_prop,
            }
            if settings.filter
            else None
        ),
        "normalization": settings.normalization,
        "tmm_reference": reference,
        "lib_size": dict(zip(names, lib.tolist(), strict=True)),
        "norm_factors": dict(zip(names, np.asarray(factors_).tolist(), strict=True)),
        "fractional_counts": bool((values != np.round(values)).any()),
    }
    log.info(
        "%s: %d of %d genes kept by filterByExpr; TMM reference %s",
        path,
        values.shape[0],
        genes_in,
        reference,
    )
    return PreparedCounts(
        counts, pd.Series(lib * factors_, index=names), symbols, provenance, entrez=entrez
    )


def _voom(
    counts: np.ndarray,
    design: np.ndarray,
    lib: np.ndarray,
    *,
    quality: bool,
    span: float,
    prior: np.ndarray | None = None,
) -> tuple[VoomResult, np.ndarray]:
    """voom (or with quality weights) and the weights the fit uses (times ``prior``)."""
    if quality:
        v = voom_with_quality_weights(counts, design, lib, weights=prior, span=span)
        return v, v.weights
    v = voom(counts, design, lib, weights=prior, span=span)
    return v, v.weights if prior is None else v.weights * prior[None, :]


def load_counts(
    settings: CountsSettings,
    samples: pd.DataFrame,
    *,
    factors: Sequence[str],
    covariates: Sequence[str] = (),
    base_dir: str | os.PathLike[str] | None = None,
    sheet_name: str = "sample sheet",
) -> ExpressionDataset:
    """The count source: an ExpressionDataset of voom log-CPM and voom weights.

    Parameters
    ----------
    settings
        The ``data.counts`` block.
    samples
        The sample sheet (``sample``; ``column`` or ``file`` naming each
        sample's table column, else the column named like the sample).
    factors, covariates
        The differential-expression design (``differential_expression.factors``
        and ``covariates``): its groups drive ``filterByExpr`` and its matrix
        voom's trend, as limma recommends (the same design as the fit).
    base_dir
        Directory of relative paths in ``settings``.  The config reader has
        already made them absolute against the working directory (Snakemake's,
        or ``load_config``'s ``workdir``), not the config's directory.

    Returns
    -------
    ExpressionDataset
        ``expression``: log2-CPM (genes x samples, gene ids); ``weights``:
        voom weights; ``features``: ``gene_symbol`` (when the table or the
        annotation has symbols); ``provenance``: ``source="counts"`` with the
        file, filter, library sizes, TMM factors and reference, voom options.
    """
    prepared = prepare_counts(
        settings,
        samples,
        factors=factors,
        covariates=covariates,
        base_dir=base_dir,
        sheet_name=sheet_name,
    )
    return voom_dataset(prepared, settings, samples, factors=factors, covariates=covariates)


def voom_dataset(
    prepared: PreparedCounts,
    settings: CountsSettings,
    samples: pd.DataFrame,
    *,
    factors: Sequence[str],
    covariates: Sequence[str] = (),
) -> ExpressionDataset:
    """The ExpressionDataset of :func:`load_counts` from counts already prepared."""
    _, design = _groups(samples, factors, covariates)
    v, weights = _voom(
        prepared.counts.to_numpy(),
        design,
        prepared.lib_size.to_numpy(),
        quality=settings.quality_weights,
        span=settings.span,
    )
    index, columns = prepared.counts.index, prepared.counts.columns
    features = None
    if prepared.symbols is not None:
        # "" (a gene without a symbol) is a missing symbol: no gene-level row.
        symbols = prepared.symbols.replace("", np.nan).to_numpy(dtype=object)
        features = pd.DataFrame({"gene_symbol": symbols}, index=index)
        if prepared.entrez is not None:
            features["entrez_id"] = prepared.entrez.to_numpy(dtype=object)
    provenance = dict(prepared.provenance)
    provenance.update(
        transformation="voom log2-CPM (prior count 0.5, library size + 1)",
        voom={"span": settings.span, "quality_weights": settings.quality_weights},
    )
    if v.sample_weights is not None:
        provenance["sample_weights"] = dict(zip(columns, v.sample_weights.tolist(), strict=True))
    return ExpressionDataset(
        expression=pd.DataFrame(v.expression, index=index, columns=columns),
        samples=samples.reset_index(drop=True),
        features=features,
        weights=pd.DataFrame(weights, index=index, columns=columns),
        provenance=provenance,
    )


_COPY = re.compile(r"@\d+$")


@dataclass(frozen=True)
class VoomRefit:
    """The count path's fit as ``refit(expr, samples, weights=None)``: a bootstrap de_function.

    Every call recomputes voom on the counts of the samples in ``expr``'s
    columns (columns renamed ``<sample>@<k>`` by the bootstrap's ``copies``
    mode are mapped back to ``<sample>``), with the design of the resampled
    sheet, then fits limma with the new observation weights.  ``weights``
    (the ``weights`` mode's multiplicities) enter voom's trend fit as prior
    array weights and multiply the observation weights.  The filter, the
    genes (``expr``'s rows) and the effective library sizes stay those of the
    full data; voom's trend is always that of every kept gene (``counts``),
    as for the reported tables' weights, and ``expr``'s rows are taken
    afterwards (so an expression filter's subset refits as the tables were fit).

    Attributes
    ----------
    counts
        :attr:`PreparedCounts.counts` (kept genes x samples).
    lib_size
        :attr:`PreparedCounts.lib_size`.
    contrasts
        Contrast name -> expression, one table each.
    design : DesignSpec
        The model (factors, covariates, block), as the tables were fitted.
    limma : LimmaOptions
        eBayes and TREAT options.  limma's ``arrayWeights`` is refused (a
        :class:`ConfigError`): the count path's array weights are voom's
        (``quality_weights``).
    quality_weights, span
        voom options, as in :class:`CountsSettings`.
    rows
        Gene level: the gene id chosen for each gene symbol (index symbol,
        :func:`sigrestore.annotation.gene_rows`), ``expr``'s rows being
        symbols.  voom is then recomputed on every kept gene, as on the full
        data, and the chosen rows' log-CPM and weights are fitted, so each
        refit uses the same rows, and the same voom trend population, as the
        gene-level tables.  None: ``expr``'s rows are gene ids.
    """

    counts: pd.DataFrame
    lib_size: pd.Series
    contrasts: Mapping[str, str]
    design: DesignSpec
    limma: LimmaOptions = field(default_factory=LimmaOptions)
    quality_weights: bool = False
    span: float = 0.5
    rows: pd.Series | None = None

    def __post_init__(self) -> None:
        if self.limma.array_weights:
            raise ConfigError(
                "differential_expression.array_weights with the count source: use"
                " data.counts.quality_weights (voomWithQualityWeights) instead"
            )

    @classmethod
    def from_prepared(cls, prepared: PreparedCounts, **options: Any) -> VoomRefit:
        """A refit on ``prepared`` counts; ``options`` are the other attributes."""
        return cls(counts=prepared.counts, lib_size=prepared.lib_size, **options)

    def __call__(
        self,
        expr: pd.DataFrame,
        samples: pd.DataFrame,
        weights: Sequence[float] | np.ndarray | None = None,
    ) -> dict[str, pd.DataFrame]:
        """One table per contrast of the voom + limma fit of the resampled samples."""
        cols = [str(c) for c in expr.columns]
        known = set(self.counts.columns)
        origin = [c if c in known else _COPY.sub("", c) for c in cols]
        unknown = sorted({o for o in origin if o not in known})
        if unknown:
            raise ConfigError(f"voom refit: no counts for sample(s) {unknown[:5]}")
        ids = self._gene_ids(expr.index)
        # voom on every gene filterByExpr kept (the full data's mean-variance
        # trend, as the reported tables' weights), then the rows of ``expr``:
        # the chosen row per gene at gene level, the rows left by
        # differential_expression.filter at table-row level.
        fitted = self.counts.index
        counts = self.counts[origin].to_numpy()
        lib = self.lib_size.loc[origin].to_numpy()
        _, design = _groups(samples, self.design.factors, self.design.covariates)
        prior = None if weights is None else np.asarray(weights, dtype=float)
        v, w = _voom(counts, design, lib, quality=self.quality_weights, span=self.span, prior=prior)
        take = pd.Index(fitted).get_indexer(ids)
        values, w = v.expression[take], w[take]
        return differential_expression(
            pd.DataFrame(values, index=expr.index, columns=expr.columns),
            samples,
            contrasts=dict(self.contrasts),
            weights=pd.DataFrame(w, index=expr.index, columns=expr.columns),
            **self.design.keywords(),
            **self.limma.keywords(),
        )

    def _gene_ids(self, features: pd.Index) -> pd.Index:
        """The count rows (gene ids) of ``features`` (gene ids, or symbols via ``rows``)."""
        if self.rows is not None:
            absent = features.difference(self.rows.index)
            if len(absent):
                raise ConfigError(
                    f"voom refit: {len(absent)} gene(s) without a chosen row"
                    f" (e.g. {list(absent[:3])})"
                )
            ids = pd.Index(self.rows.loc[features].astype(str).to_numpy())
        else:
            ids = features
        missing = ids.difference(self.counts.index)
        if len(missing):
            raise ConfigError(
                f"voom refit: {len(missing)} feature(s) without counts (e.g. {list(missing[:3])})"
            )
        return ids


# --------------------------------------------------------------------------- source contract
# (docs/architecture.md, "Adding a source"): what the workflow and the config
# check call.

KIND = "counts"
Settings = CountsSettings


def settings_from_config(
    config: Mapping[str, Any], samples: pd.DataFrame | None = None
) -> CountsSettings:
    """``data.counts`` of the schema-checked config (null keys: the defaults)."""
    from sigrestore.sources import drop_unset

    return CountsSettings.from_mapping(drop_unset((config.get("data") or {}).get(KIND)))


def input_files(settings: CountsSettings, samples: pd.DataFrame) -> list[tuple[str, str]]:
    """``(where, path)`` of the count table and the annotation table."""
    files = [("data.counts.table", str(settings.table))]
    if settings.annotation:
        files.append(("data.counts.annotation", str(settings.annotation)))
    return files


def check_inputs(settings: CountsSettings, samples: pd.DataFrame, *, is_pending: Any) -> None:
    """No check beyond the files' existence before the run.

    The table's columns are matched to the sheet (every missing sample named)
    when the table is read, which for count tables of any size is the load
    itself; repeating it at parse time would read the table twice.
    """


def load(
    settings: CountsSettings,
    samples: pd.DataFrame,
    *,
    threads: int = 1,
    factors: Sequence[str] = (),
    covariates: Sequence[str] = (),
) -> Any:
    """:func:`load_counts` as a :class:`~sigrestore.sources.SourceResult`.

    ``factors`` and ``covariates`` are the design's (``design.factors``,
    ``design.covariates``): filterByExpr's groups and voom's design.  The
    quality table has each sample's library size (kept genes), TMM factor and,
    with quality weights, voom's sample weight.
    """
    from sigrestore.sources import SourceResult

    if not factors:
        raise ConfigError("the count source needs the design's factors (design.factors)")
    prepared = prepare_counts(settings, samples, factors=factors, covariates=covariates)
    dataset = voom_dataset(prepared, settings, samples, factors=factors, covariates=covariates)
    prov = dataset.provenance
    names = dataset.expression.columns
    quality = pd.DataFrame(
        {
            "lib_size": [prov["lib_size"][n] for n in names],
            "norm_factor": [prov["norm_factors"][n] for n in names],
        },
        index=pd.Index(names, name="sample"),
    )
    if "sample_weights" in prov:
        quality["voom_sample_weight"] = [prov["sample_weights"][n] for n in names]
    # The kept counts, for the restoration bootstrap's voom refits
    # (prepared_from_outputs): the table is not read and filtered again.
    return SourceResult(dataset=dataset, quality=quality, tables={"counts": prepared.counts})


def prepared_from_outputs(counts: pd.DataFrame, provenance: Mapping[str, Any]) -> PreparedCounts:
    """The :class:`PreparedCounts` of the count job, from what it wrote.

    ``counts``: its kept counts (``SourceResult.tables["counts"]``, the
    workflow's ``results/normalized/counts.parquet``); ``provenance``: its
    provenance (``lib_size`` and ``norm_factors`` per sample, exact in JSON),
    whose product is the effective library size, computed as
    :func:`prepare_counts` computes it.

    Raises
    ------
    ConfigError
        A sample of ``counts`` without a library size or TMM factor.
    """
    names = [str(c) for c in counts.columns]
    sizes, factors = provenance.get("lib_size", {}), provenance.get("norm_factors", {})
    missing = [n for n in names if n not in sizes or n not in factors]
    if missing:
        raise ConfigError(
            f"count provenance: no library size or TMM factor for sample(s) {missing[:5]}"
        )
    lib = np.array([sizes[n] for n in names], dtype=np.float64)
    tmm = np.array([factors[n] for n in names], dtype=np.float64)
    # Laid out in memory as prepare_counts lays them out (genes x samples, row
    # major): voom's sums then run in the same order, to the last bit.
    values = np.ascontiguousarray(counts.to_numpy(dtype=np.float64))
    frame = pd.DataFrame(values, index=counts.index, columns=names)
    return PreparedCounts(frame, pd.Series(lib * tmm, index=names), None, dict(provenance))


def refit_for(
    settings: CountsSettings,
    samples: pd.DataFrame,
    *,
    contrasts: Mapping[str, str],
    design: DesignSpec,
    limma: LimmaOptions | None = None,
    rows: pd.Series | None = None,
    prepared: PreparedCounts | None = None,
) -> VoomRefit:
    """The restoration bootstrap's ``de_function`` for the count source.

    Every resample is refitted through voom with the model ``design`` and the
    ``limma`` options, on ``prepared`` (the count job's kept counts and
    library sizes, :func:`prepared_from_outputs`) or, without it, on the
    table read and filtered again (:func:`prepare_counts`: the same genes and
    effective library sizes as the dataset's).  ``rows`` (gene level): the
    gene id chosen for each symbol (see :class:`VoomRefit`).
    """
    if prepared is None:
        prepared = prepare_counts(
            settings, samples, factors=design.factors, covariates=design.covariates
        )
    return VoomRefit.from_prepared(
        prepared,
        contrasts=dict(contrasts),
        design=design,
        limma=limma or LimmaOptions(),
        quality_weights=settings.quality_weights,
        span=settings.span,
        rows=rows,
    )
