"""Array bootstrap of the restored fraction.

Each resample draws, within every experimental group, as many arrays as the
group has, with replacement; the differential-expression step is rerun on the
resampled arrays and every call (the signature itself included) is redone, so
the interval reflects the uncertainty of the whole procedure, not only of the
restoration calls.

An array drawn ``m`` times enters the refit once, with precision weight ``m``
(``duplicates="weights"``, the default): the coefficients are those of the
``m`` copies, but the residual degrees of freedom count distinct arrays.  With
``duplicates="copies"`` the copies are refitted as independent arrays, which
adds residual degrees of freedom with zero within-copy variance, shrinks the
residual variances and calls more features than the data support.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from sigrestore.diffexp import build_design
from sigrestore.errors import ConfigError, DesignError
from sigrestore.restoration.calls import (
    classify_signature,
    comparison_calls,
    status_counts,
    status_fractions,
)
from sigrestore.restoration.spec import BOOTSTRAP_DUPLICATES, ComparisonSpec

#: ``de_function(expr, samples[, weights=...]) -> {contrast: table}``
DEFunction = Callable[..., Mapping[str, pd.DataFrame]]


def sample_groups(
    samples: pd.DataFrame,
    *,
    factors: Sequence[str] | None = None,
    sample_column: str = "sample",
) -> pd.Series:
    """Experimental group of every array (Series: sample -> group name).

    With ``factors``, the groups of the design the fit uses
    (``sigrestore.diffexp.build_design(samples, factors=factors).groups``).
    Without ``factors``, the sample sheet's ``group`` column is used
    (DesignError if it has none).
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
    design = build_design(samples, factors=list(factors), sample_column=sample_column)
    return pd.Series(design.groups.astype(str).to_numpy(), index=ids, name="group")


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
    chosen = np.concatenate(_draws(names, groups, rng))
    picked = names[chosen]
    new_names = [f"{n}@{i}" for i, n in enumerate(picked)]
    sheet = samples.iloc[chosen].reset_index(drop=True)
    sheet[sample_column] = new_names
    matrix = expr.loc[:, picked]
    matrix.columns = new_names
    return matrix, sheet


def resample_distinct(
    expr: pd.DataFrame,
    samples: pd.DataFrame,
    groups: pd.Series,
    rng: np.random.Generator,
    *,
    sample_column: str = "sample",
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The draw of :func:`resample_arrays`, as distinct arrays and their multiplicities.

    Consumes ``rng`` exactly as :func:`resample_arrays` does, so both see the
    same resample for the same generator state.  Arrays keep their names;
    within each group (groups in sorted order) they are in sample-sheet order.

    Returns
    -------
    matrix, sheet, weights
        Expression of the distinct arrays drawn, their sample-sheet rows, and
        how many times each was drawn (float, sums to the number of arrays).
    """
    names = samples[sample_column].astype(str).to_numpy()
    distinct, counts = [], []
    for picks in _draws(names, groups, rng):
        values, times = np.unique(picks, return_counts=True)
        distinct.append(values)
        counts.append(times)
    keep = np.concatenate(distinct)
    sheet = samples.iloc[keep].reset_index(drop=True)
    matrix = expr.loc[:, names[keep]]
    return matrix, sheet, np.concatenate(counts).astype(float)


def _draws(names: np.ndarray, groups: pd.Series, rng: np.random.Generator) -> list[np.ndarray]:
    """Sheet positions drawn in every group (sorted group order), with replacement."""
    group_of = groups.reindex(names).to_numpy()
    out = []
    for g in sorted(set(group_of.tolist())):
        members = np.flatnonzero(group_of == g)
        out.append(members[rng.integers(0, len(members), size=len(members))])
    return out


def accepts_weights(de_function: Callable[..., object]) -> bool:
    """True when ``de_function`` takes a ``weights=`` keyword (or ``**kwargs``)."""
    try:
        params = inspect.signature(de_function).parameters.values()
    except (TypeError, ValueError):  # no introspectable signature: assume it does
        return True
    return any(
        (p.name == "weights" and p.kind != p.POSITIONAL_ONLY) or p.kind == p.VAR_KEYWORD
        for p in params
    )


def bootstrap_fraction(
    expr: pd.DataFrame,
    samples: pd.DataFrame,
    spec: ComparisonSpec,
    *,
    de_function: DEFunction,
    groups: pd.Series,
    n: int | None = None,
    seed: int | None = None,
    duplicates: str | None = None,
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
        ``de_function(expr, samples, weights=w) -> {contrast: table}``, e.g. a
        ``functools.partial`` of ``sigrestore.diffexp.differential_expression``
        (``weights`` is only passed with ``duplicates="weights"``; one weight
        per column of ``expr``).
    groups : Series
        sample -> group (see :func:`sample_groups`).
    n, seed : int, optional
        Default to ``spec.bootstrap.n`` and ``spec.bootstrap.seed``.
    duplicates : {"weights", "copies"}, optional
        How an array drawn ``m`` times is refitted: once with weight ``m``
        ("weights"), or as ``m`` independent copies ("copies", renamed
        ``<sample>@<position>``).  Defaults to ``spec.bootstrap.duplicates``.

    Returns
    -------
    DataFrame with one row per resample (index ``resample`` 0..n-1) and columns
    ``signature_size``, ``restored`` and the fractions of :func:`status_fractions`
    (``restored_fraction``, ``_up``, ``_down``, and ``lost_restored_fraction`` /
    ``restored_beyond_modulator_fraction`` when the spec has those contrasts).
    A fraction is NaN when its denominator is 0 in that resample.  A resample
    whose refit raises DesignError (e.g. no residual degree of freedom left
    when every group drew a single distinct array) is invalid: its row is all
    NaN.  The first such error is raised when no resample is valid.

    Raises
    ------
    ConfigError
        ``duplicates`` is unknown, or is "weights" and ``de_function`` takes
        no ``weights`` keyword (use "copies" with such a function).
    """
    n = spec.bootstrap.n if n is None else n
    seed = spec.bootstrap.seed if seed is None else seed
    duplicates = spec.bootstrap.duplicates if duplicates is None else duplicates
    if duplicates not in BOOTSTRAP_DUPLICATES:
        raise ConfigError(
            f"comparison {spec.name!r}: bootstrap.duplicates must be one of "
            f"{list(BOOTSTRAP_DUPLICATES)}, got {duplicates!r}"
        )
    if duplicates == "weights" and not accepts_weights(de_function):
        raise ConfigError(
            f"comparison {spec.name!r}: bootstrap.duplicates is 'weights' but the "
            "differential-expression function takes no weights= keyword; give it one "
            "or set bootstrap.duplicates to 'copies'"
        )
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
    rows: list[dict] = []
    first_error: DesignError | None = None
    for _ in range(n):
        try:
            if duplicates == "weights":
                matrix, sheet, weights = resample_distinct(
                    expr, samples, groups, rng, sample_column=sample_column
                )
                tables = de_function(matrix, sheet, weights=weights)
            else:
                matrix, sheet = resample_arrays(
                    expr, samples, groups, rng, sample_column=sample_column
                )
                tables = de_function(matrix, sheet)
        except DesignError as exc:
            # A degenerate resample (the draw itself consumed the rng already,
            # so later resamples are unaffected): an all-NaN row.
            first_error = first_error or exc
            rows.append({})
            continue
        classified = classify_signature(comparison_calls(tables, spec))
        counts = status_counts(classified)
        rows.append(
            {
                "signature_size": counts["signature_size"],
                "restored": counts["restored"],
                **status_fractions(counts),
            }
        )
    if n and first_error is not None and not any(rows):
        raise first_error
    out = pd.DataFrame(rows, index=pd.RangeIndex(n))
    out.index.name = "resample"
    return out
