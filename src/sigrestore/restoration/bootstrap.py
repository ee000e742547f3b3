"""Array bootstrap of the restored fraction.

Each resample draws, within every experimental group, as many arrays as the
group has, with replacement; the differential-expression step is rerun on the
resampled arrays and every call (the signature itself included) is redone, so
the interval reflects the uncertainty of the whole procedure, not only of the
restoration calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sigrestore.errors import DesignError
from sigrestore.restoration.calls import (
    classify_signature,
    comparison_calls,
    status_counts,
    status_fractions,
)
from sigrestore.restoration.spec import ComparisonSpec

DEFunction = Callable[[pd.DataFrame, pd.DataFrame], Mapping[str, pd.DataFrame]]


def sample_groups(
    samples: pd.DataFrame,
    *,
    factors: Sequence[str] | None = None,
    sample_column: str = "sample",
) -> pd.Series:
    """Experimental group of every array (Series: sample -> group name).

    With ``factors``, uses ``sigrestore.diffexp.build_design(samples,
    factors=factors).groups`` when that module is available, otherwise the
    factor values joined by ``"_"``.  Without ``factors``, the sample sheet's
    ``group`` column is used (DesignError if it has none).
    """
    if sample_column not in samples.columns:
        raise DesignError(f"sample sheet has no {sample_column!r} column")
    ids = samples[sample_column].astype(str).to_numpy()
    if factors is None:
        if "group" not in samples.columns:
            raise DesignError(
                "sample sheet has no 'group' column; name the factor columns that define groups"
            )
        return pd.Series(samples["group"].astype(str).to_numpy(), index=ids, name="group")
    try:
        from sigrestore.diffexp import build_design
    except ImportError:  # the design module is optional for this step
        build_design = None
    if build_design is not None:
        design = build_design(samples, factors=list(factors), sample_column=sample_column)
        return pd.Series(design.groups.astype(str).to_numpy(), index=ids, name="group")
    missing = [c for c in factors if c not in samples.columns]
    if missing or not factors:
        raise DesignError(f"sample sheet lacks factor column(s) {missing or list(factors)}")
    labels = samples[list(factors)].astype(str).agg("_".join, axis=1)
    return pd.Series(labels.to_numpy(), index=ids, name="group")


def resample_arrays(
    expr: pd.DataFrame,
    samples: pd.DataFrame,
    groups: pd.Series,
    rng: np.random.Generator,
    *,
    sample_column: str = "sample",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One within-group resample of the arrays, with replacement, same group sizes.

    Groups are visited in sorted order and arrays in sample-sheet order, so the
    draw depends only on ``rng``.  Resampled arrays are renamed
    ``<sample>@<position>`` so that repeated arrays get unique names in both
    the expression columns and the sample sheet.
    """
    names = samples[sample_column].astype(str).to_numpy()
    group_of = groups.reindex(names).to_numpy()
    chosen: list[int] = []
    for g in sorted(set(group_of.tolist())):
        members = np.flatnonzero(group_of == g)
        chosen.extend(members[rng.integers(0, len(members), size=len(members))].tolist())
    picked = names[chosen]
    new_names = [f"{n}@{i}" for i, n in enumerate(picked)]
    sheet = samples.iloc[chosen].reset_index(drop=True)
    sheet[sample_column] = new_names
    matrix = expr.loc[:, picked]
    matrix.columns = new_names
    return matrix, sheet


def bootstrap_fraction(
    expr: pd.DataFrame,
    samples: pd.DataFrame,
    spec: ComparisonSpec,
    *,
    de_function: DEFunction,
    groups: pd.Series,
    n: int | None = None,
    seed: int | None = None,
    sample_column: str = "sample",
) -> pd.DataFrame:
    """Recompute the restored fractions on ``n`` array resamples.

    Parameters
    ----------
    expr : DataFrame
        Expression matrix, features x arrays (log2), columns = sample names.
    samples : DataFrame
        Sample sheet with ``sample_column`` and the factor columns.
    spec : ComparisonSpec
        The comparison; its thresholds are applied to every resample.
    de_function : callable
        ``de_function(expr, samples) -> {contrast: table}``, e.g. a
        ``functools.partial`` of ``sigrestore.diffexp.differential_expression``.
    groups : Series
        sample -> group (see :func:`sample_groups`).
    n, seed : int, optional
        Default to ``spec.bootstrap.n`` and ``spec.bootstrap.seed``.

    Returns
    -------
    DataFrame with one row per resample (index ``resample`` 0..n-1) and columns
    ``signature_size``, ``restored`` and the fractions of :func:`status_fractions`
    (``restored_fraction``, ``_up``, ``_down``, and ``lost_restored_fraction`` /
    ``restored_beyond_modulator_fraction`` when the spec has those contrasts).
    A fraction is NaN when its denominator is 0 in that resample.
    """
    n = spec.bootstrap.n if n is None else n
    seed = spec.bootstrap.seed if seed is None else seed
    names = samples[sample_column].astype(str)
    missing = sorted(set(names) - set(map(str, expr.columns)))
    if missing:
        raise DesignError(f"expression matrix lacks array(s) of the sample sheet: {missing[:5]}")
    absent = sorted(set(names) - set(groups.index))
    if absent:
        raise DesignError(f"no group for array(s) {absent[:5]}")
    expr = expr.copy()
    expr.columns = expr.columns.astype(str)
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        matrix, sheet = resample_arrays(expr, samples, groups, rng, sample_column=sample_column)
        tables = de_function(matrix, sheet)
        classified = classify_signature(comparison_calls(tables, spec))
        counts = status_counts(classified)
        rows.append(
            {
                "signature_size": counts["signature_size"],
                "restored": counts["restored"],
                **status_fractions(counts),
            }
        )
    out = pd.DataFrame(rows)
    out.index.name = "resample"
    return out
