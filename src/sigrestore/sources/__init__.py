"""Data sources: one module per kind of raw data, each producing an
:class:`~sigrestore.dataset.ExpressionDataset`.

The contract a source module ``sigrestore.sources.<kind>`` fulfils (see
docs/architecture.md, "Adding a source"):

``KIND``
    The name used in the config (``data.source: <kind>``).
``Settings``
    A frozen dataclass of the source's options; its defaults equal those of
    the schema branch ``data.<kind>`` in ``workflow/schemas/config.schema.yaml``.
``settings_from_config(config, samples) -> Settings``
    The settings from the schema-checked config (``data.<kind>`` plus any
    legacy keys the source accepts), paths already resolved.
``input_files(settings, samples) -> list[tuple[str, str]]``
    ``(where, path)`` of every input file, ``where`` naming the config key or
    sheet row for error messages (the config check tests they exist).
``check_inputs(settings, samples, *, is_pending) -> None``
    The source's own consistency checks before any job runs (e.g. one chip
    type); ConfigError naming the file.  ``is_pending(path)`` is true for
    files a workflow rule will create (skip them).
``load(settings, samples, *, threads=1) -> SourceResult``
    Read, normalise and return the dataset (and per-array quality).

Optional:

``feature_count(settings, *, is_pending) -> tuple[int, str] | None``
    The number of features the dataset will have and what they are called
    (Affymetrix: the CDF's probe sets), when known before loading; the config
    check compares a ``top`` signature's ``top_n`` with it.  None: not known.

:func:`source_module` finds the module of a kind; :data:`SOURCES` lists them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pandas as pd

from sigrestore.dataset import ExpressionDataset
from sigrestore.errors import ConfigError, FormatError

__all__ = [
    "MATRIX_SOURCES",
    "SOURCES",
    "SourceResult",
    "drop_unset",
    "gene_features",
    "source_module",
    "value_transformation",
]

#: Source kind -> module.  A new source is one module plus one entry here and
#: its schema branch (``data.<kind>`` and the ``data.source`` enum).
SOURCES: Mapping[str, str] = {
    "affymetrix": "sigrestore.sources.affymetrix",
    "geo": "sigrestore.sources.geo",
    "counts": "sigrestore.sources.counts",
    "illumina": "sigrestore.sources.illumina",
    "agilent": "sigrestore.sources.agilent",
}

#: Sources whose dataset is a matrix of values rather than probe-level
#: intensities: their QC is the matrix's (distributions, PCA, correlation),
#: with no RMA probe-level figures (RLE, NUSE, residual images).
MATRIX_SOURCES = ("geo", "counts", "illumina", "agilent")

_REQUIRED = ("KIND", "Settings", "settings_from_config", "input_files", "check_inputs", "load")


@dataclass(frozen=True)
class SourceResult:
    """What a source's :func:`load` returns.

    Attributes
    ----------
    dataset : ExpressionDataset
        The normalised expression with its samples, features and provenance.
    quality : DataFrame or None
        Per-array quality table (one row per sample), written as
        ``results/qc/array_quality.tsv`` when given.
    qc : mapping
        Source-specific data behind the QC figures, as tables or arrays (no
        Python objects: the workflow stores it as ``.npz``); empty when none.
    tables : mapping
        Source-specific tables later steps read, by name (the workflow writes
        each as ``results/normalized/<name>.parquet``): the count source's
        kept ``counts``, which the restoration bootstrap refits through voom.
    """

    dataset: ExpressionDataset
    quality: pd.DataFrame | None = None
    qc: Mapping[str, Any] = field(default_factory=dict)
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)


def source_module(kind: str) -> ModuleType:
    """The module of source ``kind`` (``data.source``); ConfigError if unknown."""
    if kind not in SOURCES:
        raise ConfigError(
            f"config key data.source: unknown source {kind!r}; known: {sorted(SOURCES)}"
        )
    module = importlib.import_module(SOURCES[kind])
    missing = [name for name in _REQUIRED if not hasattr(module, name)]
    if missing:  # a programming error in a new source, caught by the first use
        raise ConfigError(f"source module {module.__name__} lacks {missing}")
    return module


def drop_unset(branch: Mapping[str, Any] | None) -> dict[str, Any]:
    """A ``data.<kind>`` mapping without its null keys.

    The schema fills every key of a branch, null where the source's
    ``Settings`` has its own default (or inherits a value from elsewhere);
    dropping them leaves the dataclass defaults in place.
    """
    return {k: v for k, v in dict(branch or {}).items() if v is not None}


def gene_features(dataset: ExpressionDataset, kind: str) -> pd.DataFrame:
    """The dataset's feature annotation, which must give gene symbols.

    The workflow decides the gene level when it is parsed, from the settings
    (``Settings.gene_level``: an annotation given or, for GEO, fetched; a
    count table with a symbol column); the loaded data must then have them.

    Raises
    ------
    FormatError
        No feature annotation, or no feature with a gene symbol (e.g. a GEO
        platform table without a symbol column).
    """
    features = dataset.features
    has = (
        features is not None
        and "gene_symbol" in features.columns
        and features["gene_symbol"].notna().any()
    )
    if not has:
        files = ", ".join(str(f) for f in dataset.provenance.get("files", [])) or kind
        raise FormatError(
            f"{files}: no gene symbol for any feature, but the {kind} source was expected to"
            f" give them (gene-level results): give an annotation with a gene-symbol column"
            f" (data.{kind}.annotation)"
        )
    return features


def value_transformation(provenance: Mapping[str, Any]) -> str:
    """One line saying how a dataset's values were made (for the run's summary).

    Built from :attr:`ExpressionDataset.provenance` as each source records it.
    """
    kind = provenance.get("source", "?")
    if "transformation" in provenance:  # counts: voom's log-CPM
        return str(provenance["transformation"])
    if kind == "affymetrix":
        steps = ["RMA"]
        steps.append("background" if provenance.get("background", True) else "no background")
        steps.append("quantile" if provenance.get("quantile_normalize", True) else "no quantile")
        return f"{' + '.join(steps)} + median polish, log2"
    if kind == "geo":
        decision = provenance.get("log2") or {}
        log2 = "log2 applied" if decision.get("log2") else "values used as given (already log2)"
        mode = decision.get("mode", "auto")
        norm = provenance.get("normalization", "none")
        text = f"submitter's values, {log2} (log2: {mode})"
        return text + (", quantile normalized" if norm == "quantile" else "")
    norm = provenance.get("normalization")
    if isinstance(norm, Mapping) and "method" in norm:  # illumina, agilent
        return str(norm["method"])
    return str(norm) if norm is not None else "as read"
