"""The one expression dataset every data source produces and every later stage consumes.

A source (``sigrestore.sources.<kind>``: Affymetrix CEL + CDF, GEO matrices,
RNA-seq counts, Illumina, Agilent) validates its inputs, reads and normalises
them and returns an :class:`ExpressionDataset`.  Differential expression,
restoration, enrichment and the figures take the dataset (or its parts) and
never ask where it came from; :attr:`ExpressionDataset.provenance` says so for
the logs and the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sigrestore.errors import DesignError

__all__ = ["ExpressionDataset"]


@dataclass(frozen=True)
class ExpressionDataset:
    """Normalised log2 expression with its samples, features and provenance.

    Attributes
    ----------
    expression : DataFrame
        Features x samples, log2 scale, float64; columns are sample names in
        the order of :attr:`samples`; the index holds unique feature ids
        (probe sets, probes, genes).  NaN marks a missing value.
    samples : DataFrame
        The sample sheet, one row per column of :attr:`expression`, in the
        same order, with at least a ``sample`` column.
    features : DataFrame or None
        Per-feature annotation indexed like :attr:`expression`
        (``gene_symbol``, ``entrez_id`` where known); None when the source
        has none.
    weights : DataFrame or None
        Observation-level precision weights of the same shape as
        :attr:`expression` (limma-voom), or None.
    provenance : mapping
        What made the values: ``source`` (the source kind) and whatever the
        source records (files, value transformation, normalisation).
    """

    expression: pd.DataFrame
    samples: pd.DataFrame
    features: pd.DataFrame | None = None
    weights: pd.DataFrame | None = None
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "sample" not in self.samples.columns:
            raise DesignError("dataset: the sample sheet has no 'sample' column")
        names = [str(s) for s in self.samples["sample"]]
        if [str(c) for c in self.expression.columns] != names:
            raise DesignError(
                "dataset: expression columns are not the sheet's samples in order"
                f" (first columns {list(self.expression.columns[:3])},"
                f" first samples {names[:3]})"
            )
        if not self.expression.index.is_unique:
            dup = self.expression.index[self.expression.index.duplicated()]
            raise DesignError(f"dataset: duplicate feature ids, e.g. {list(dup[:3])}")
        if self.weights is not None and self.weights.shape != self.expression.shape:
            raise DesignError(
                f"dataset: weights are {self.weights.shape}, expression {self.expression.shape}"
            )
        if self.features is not None and not self.features.index.equals(self.expression.index):
            raise DesignError("dataset: the feature annotation is not indexed like the expression")

    @property
    def source(self) -> str:
        """The kind of source that made the dataset (``provenance["source"]``)."""
        return str(self.provenance.get("source", "unknown"))

    @property
    def shape(self) -> tuple[int, int]:
        """(features, samples)."""
        return self.expression.shape

    def subset_features(self, keep: pd.Index | np.ndarray) -> ExpressionDataset:
        """The dataset restricted to the features ``keep`` (labels or a boolean mask)."""
        expression = self.expression.loc[keep]
        index = expression.index
        return ExpressionDataset(
            expression=expression,
            samples=self.samples,
            features=None if self.features is None else self.features.loc[index],
            weights=None if self.weights is None else self.weights.loc[index],
            provenance=self.provenance,
        )
