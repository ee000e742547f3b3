"""Filter for probe sets not expressed on enough arrays (off by default).

Effect on the false discovery rate: the filter looks only at intensities, not
at the group labels, so for a probe set with no true difference it is
(approximately) independent of the moderated t statistic; the surviving null
p-values stay uniform and Benjamini-Hochberg still controls the FDR, now over
fewer tests, which usually gains power (Bourgon, Gentleman & Huber 2010, PNAS
107:9546).  Two caveats: a filter that uses the groups (for example "expressed
in the treated group") is *not* independent and inflates the FDR; and the
empirical-Bayes prior is estimated from the probe sets that remain, so the
moderated statistics of the kept probe sets change slightly too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sigrestore.errors import ConfigError

__all__ = [
    "ExpressionFilter",
    "FilterSummary",
    "filter_expressed",
    "filter_message",
    "filter_probe_sets",
    "filter_table",
]


def filter_expressed(expr: pd.DataFrame, *, min_expr: float, min_samples: int) -> pd.DataFrame:
    """Keep probe sets with ``expr >= min_expr`` on at least ``min_samples`` arrays.

    Parameters
    ----------
    expr
        Features x arrays, log2 scale (missing values count as not expressed).
    min_expr
        Expression threshold on the log2 scale (e.g. a low quantile of the data).
    min_samples
        Number of arrays that must reach it; usually the size of the smallest
        group, so a gene expressed in one group only is kept.

    Returns
    -------
    pandas.DataFrame
        The rows of ``expr`` that pass, in their original order.
    """
    if not np.isfinite(min_expr):
        raise ConfigError(f"filter min_expr must be a finite number, got {min_expr!r}")
    if int(min_samples) != min_samples or not 1 <= min_samples <= expr.shape[1]:
        raise ConfigError(
            f"filter min_samples must be an integer between 1 and {expr.shape[1]} "
            f"(the number of arrays), got {min_samples!r}"
        )
    with np.errstate(invalid="ignore"):
        passing = (expr.to_numpy(dtype=float) >= min_expr).sum(axis=1) >= min_samples
    return expr.loc[passing]


# --------------------------------------------------------------------------- the config's filter

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

    def to_frame(self) -> pd.DataFrame:
        """One row (the workflow's ``results/normalized/probeset.filter.tsv``)."""
        return pd.DataFrame(
            [[self.n_input, self.n_removed, self.min_expr, self.min_samples]],
            columns=list(SUMMARY_COLUMNS),
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> FilterSummary | None:
        """The inverse of :meth:`to_frame`; None for a table without rows (filter off)."""
        if frame.empty:
            return None
        row = frame.iloc[0]
        return cls(
            n_input=int(row["n_input"]),
            n_removed=int(row["n_removed"]),
            min_expr=float(row["min_expr"]),
            min_samples=int(row["min_samples"]),
        )


#: Columns of a filter summary table.
SUMMARY_COLUMNS = ("n_input", "n_removed", "min_expr", "min_samples")


def filter_table(summary: FilterSummary | None) -> pd.DataFrame:
    """The summary as a table: one row, or no rows when the filter is off."""
    return summary.to_frame() if summary is not None else pd.DataFrame(columns=SUMMARY_COLUMNS)


#: What the job logs say when the filter is off.
FILTER_OFF = "expression filter: off (differential_expression.filter.enabled)"


def filter_message(summary: FilterSummary | None) -> str:
    """The log line of a filter summary (or of the filter being off)."""
    return FILTER_OFF if summary is None else str(summary)


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
        from sigrestore.diffexp.checks import group_sizes
        from sigrestore.diffexp.design import build_design

        min_samples = int(group_sizes(build_design(samples, factors=list(factors))).min())
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
