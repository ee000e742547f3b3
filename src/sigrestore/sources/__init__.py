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
from sigrestore.errors import ConfigError

__all__ = ["SOURCES", "SourceResult", "source_module"]

#: Source kind -> module.  A new source is one module plus one entry here and
#: its schema branch (``data.<kind>`` and the ``data.source`` enum).
SOURCES: Mapping[str, str] = {
    "affymetrix": "sigrestore.sources.affymetrix",
}

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
    """

    dataset: ExpressionDataset
    quality: pd.DataFrame | None = None
    qc: Mapping[str, Any] = field(default_factory=dict)


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
