"""Checks of a design and its contrasts that catch typos before any data are read.

Each check is cheap (it needs the sample sheet and the config, never the
expression) so the workflow runs them at validation, before RMA:

- :func:`check_differences`: a contrast's group coefficients sum to 0, i.e. it
  compares groups.  ``a + b`` (a typo for ``a - b``) or ``a`` alone estimate a
  mean expression level, not a change, and make nearly every feature
  "significant";
- :func:`similar_levels` / :func:`check_similar_levels`: factor levels that
  differ only by case, surrounding spaces or ``-``/``_`` (``Vehicle`` beside
  ``vehicle``) silently form a group of their own;
- :func:`residual_df` / :func:`check_residual_df`: a design that leaves no
  residual degrees of freedom cannot estimate a variance;
- :func:`group_sizes`: arrays per group, for the log and the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sigrestore.diffexp.design import Design
from sigrestore.errors import DesignError

__all__ = [
    "DesignCheck",
    "check_design",
    "check_differences",
    "check_residual_df",
    "check_similar_levels",
    "group_sizes",
    "level_key",
    "non_differences",
    "residual_df",
    "similar_levels",
    "spelling_columns",
]

_TOL = 1e-9
_SEPARATORS = re.compile(r"[-_]")


def non_differences(contrasts: pd.DataFrame, design: Design) -> dict[str, float]:
    """Contrasts whose group coefficients do not sum to 0, with their sums.

    Parameters
    ----------
    contrasts
        Coefficients x contrasts, as :func:`~sigrestore.diffexp.make_contrasts`
        returns it.
    design
        The design the contrasts were made for (its ``group_names`` say which
        coefficients are groups; covariate slopes do not count).
    """
    groups = [g for g in design.group_names if g in contrasts.index]
    sums = contrasts.loc[groups].sum(axis=0)
    return {str(k): float(v) for k, v in sums.items() if abs(v) > _TOL}


def check_differences(
    contrasts: pd.DataFrame,
    design: Design,
    expressions: dict[str, str] | None = None,
    *,
    allowed: Iterable[str] = (),
) -> None:
    """Raise DesignError for a contrast that is not a difference between groups.

    ``allowed`` names contrasts meant as something else (a mean level);
    the config's ``checks.allow_non_difference`` lists them.
    """
    allowed = set(allowed)
    bad = {k: v for k, v in non_differences(contrasts, design).items() if k not in allowed}
    if not bad:
        return
    lines = []
    for name, total in bad.items():
        text = f" = {expressions[name]!r}" if expressions and name in expressions else ""
        lines.append(f"  contrast {name!r}{text}: group coefficients sum to {total:g}, not 0")
    raise DesignError(
        "contrast(s) that do not compare groups (a difference has coefficients summing to 0,"
        " e.g. 'treated - control' or '(a + b)/2 - c'):\n"
        + "\n".join(lines)
        + "\nSuch a contrast tests a mean expression level against 0, so nearly every feature"
        " comes out significant; look for a '+' typed instead of '-' or a group missing."
        " If it is meant, list it under checks.allow_non_difference."
    )


def level_key(level: object) -> str:
    """The form two levels share when they differ only by case, spaces or ``-``/``_``."""
    return _SEPARATORS.sub("_", str(level).strip().casefold())


def similar_levels(
    samples: pd.DataFrame, columns: Sequence[str], *, sample_column: str = "sample"
) -> list[tuple[str, dict[str, list[str]]]]:
    """Levels of ``columns`` that differ only by case, surrounding spaces or ``-``/``_``.

    Returns
    -------
    list of (column, {level: [samples]}) with two or more levels per entry.
    """
    found = []
    for column in columns:
        if column not in samples.columns:
            continue
        values = samples[column].astype(str)
        keys = values.map(level_key)
        for _, idx in values.groupby(keys).groups.items():
            variants = values.loc[idx]
            if variants.nunique() < 2:
                continue
            members = {
                str(level): samples.loc[variants.index[variants == level], sample_column]
                .astype(str)
                .tolist()
                for level in dict.fromkeys(variants)
            }
            found.append((column, members))
    return found


def check_similar_levels(
    samples: pd.DataFrame, columns: Sequence[str], *, sample_column: str = "sample"
) -> None:
    """Raise DesignError listing the samples of levels that differ only in spelling."""
    found = similar_levels(samples, columns, sample_column=sample_column)
    if not found:
        return
    lines = []
    for column, members in found:
        detail = "; ".join(
            f"{level!r}: {', '.join(names[:10])}{' ...' if len(names) > 10 else ''}"
            for level, names in members.items()
        )
        lines.append(f"  column {column!r}: {detail}")
    raise DesignError(
        "sample sheet levels differ only by case, spaces or '-'/'_', so they form separate"
        " groups:\n"
        + "\n".join(lines)
        + "\nCorrect the spelling in the sample sheet, or set checks.allow_similar_levels: true"
        " if they are truly different."
    )


def spelling_columns(
    samples: pd.DataFrame, factors: Sequence[str], covariates: Sequence = (), block=None
) -> list[str]:
    """Columns whose levels :func:`check_similar_levels` compares: the factors,
    the covariates that enter as factors, and the block."""
    from sigrestore.diffexp.design import covariate_spec, numeric_values

    columns = list(factors)
    for cov in map(covariate_spec, covariates):
        values = samples[cov.name] if cov.name in samples.columns else None
        if values is not None and (cov.type == "factor" or numeric_values(values) is None):
            columns.append(cov.name)
    if block:
        columns.append(block)
    return columns


def residual_df(design: Design) -> int:
    """Arrays minus the rank of the design matrix (limma's residual degrees of freedom)."""
    x = design.matrix.to_numpy(dtype=float)
    if x.size == 0:
        return 0
    return int(x.shape[0] - np.linalg.matrix_rank(x))


def check_residual_df(design: Design) -> None:
    """Raise DesignError when the design leaves no residual degree of freedom."""
    df = residual_df(design)
    if df > 0:
        return
    n, p = design.matrix.shape
    raise DesignError(
        f"the design has no residual degrees of freedom: {n} arrays and {p} coefficients"
        f" (rank {n - df}), so no variance can be estimated; every group needs replicates"
        " beyond what the covariates use (drop a covariate or add arrays)"
    )


def group_sizes(design: Design) -> pd.Series:
    """Arrays per group, in the design's group order (named ``arrays``)."""
    counts = design.groups.value_counts()
    return pd.Series(
        [int(counts.get(g, 0)) for g in design.group_names],
        index=pd.Index(design.group_names, name="group"),
        name="arrays",
    )


@dataclass(frozen=True)
class DesignCheck:
    """What :func:`check_design` found: the design, its contrasts and its sizes.

    Attributes
    ----------
    design
        The design the DE step will fit.
    contrasts
        Coefficients x contrasts.
    sizes
        Arrays per group (see :func:`group_sizes`).
    residual_df
        Arrays minus the rank of the design.
    """

    design: Design
    contrasts: pd.DataFrame
    sizes: pd.Series
    residual_df: int

    def describe(self) -> str:
        """A few lines for the log: groups with their sizes, residual df, covariates."""
        groups = ", ".join(f"{g} {n}" for g, n in self.sizes.items())
        lines = [f"arrays per group: {groups}", f"residual degrees of freedom: {self.residual_df}"]
        for name in self.design.covariates:
            kind = "one slope" if name in self.design.matrix.columns else "a factor"
            lines.append(f"covariate {name}: {kind}")
        return "\n".join(lines)


def check_design(
    samples: pd.DataFrame,
    *,
    factors: Sequence[str],
    covariates: Sequence = (),
    contrasts: Mapping[str, str],
    block: str | None = None,
    allow_non_difference: Iterable[str] = (),
    allow_similar_levels: bool = False,
    sample_column: str = "sample",
) -> DesignCheck:
    """Every design check that needs no expression data, in one call.

    Builds the design and the contrast matrix exactly as the DE step will
    (so unknown, empty, zero, constant or non-estimable contrasts fail here),
    then checks level spellings, differences and residual degrees of freedom.

    Raises
    ------
    DesignError, ConfigError
        The first problem found, naming the contrast, column or samples.
    """
    from sigrestore.diffexp.contrasts import make_contrasts
    from sigrestore.diffexp.design import build_design

    if not allow_similar_levels:
        columns = spelling_columns(samples, factors, covariates, block)
        check_similar_levels(samples, columns, sample_column=sample_column)
    design = build_design(
        samples, factors=list(factors), covariates=list(covariates), sample_column=sample_column
    )
    cm = make_contrasts(dict(contrasts), design)
    check_differences(cm, design, dict(contrasts), allowed=allow_non_difference)
    check_residual_df(design)
    return DesignCheck(
        design=design, contrasts=cm, sizes=group_sizes(design), residual_df=residual_df(design)
    )
