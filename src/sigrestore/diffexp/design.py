"""Design matrices from a sample sheet: one group per combination of factor values.

The model is limma's cell-means parameterization, ``~0 + group``, plus optional
covariates: a categorical covariate is treatment-coded (first level, in sorted
order, is the baseline, as R's ``model.matrix`` does), a numeric covariate
enters as is (one slope, as R's ``~0 + group + rin``).  A covariate column is
numeric when every value parses as a finite number -- also when the sheet was
read as text, as the workflow reads it -- unless it is declared a factor
(``{"name": "batch", "type": "factor"}`` or ``"C(batch)"``).  Group names are
made usable as identifiers in contrast expressions (see :func:`sanitize_name`).
"""

from __future__ import annotations

import itertools
import keyword
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sigrestore.errors import ConfigError, DesignError

__all__ = ["Covariate", "Design", "build_design", "covariate_spec", "design_table", "sanitize_name"]

_NOT_IDENT = re.compile(r"[^0-9A-Za-z_]")
_FORCED_FACTOR = re.compile(r"^C\((.+)\)$")


def sanitize_name(raw: str) -> str:
    """Turn a raw group or level label into a Python identifier.

    Characters other than letters, digits and ``_`` become ``_``; a name starting
    with a digit (or empty) gets an ``X`` prefix, as R's ``make.names`` does; a
    Python keyword gets a trailing ``_``.
    """
    name = _NOT_IDENT.sub("_", str(raw))
    if not name or name[0].isdigit():
        name = "X" + name
    if keyword.iskeyword(name) or name in {"True", "False", "None"}:
        name += "_"
    return name


@dataclass(frozen=True)
class Design:
    """A design matrix and the grouping it encodes.

    Attributes
    ----------
    matrix
        Samples x coefficients (float).  Rows follow the sample sheet order; the
        index holds the sample ids (they may repeat in a resampled sheet).
    groups
        Sample id -> group name, in the same order as ``matrix``.
    group_names
        The groups present, in coefficient order (factor levels in sorted order,
        or category order for a pandas categorical column).
    factors, covariates
        The sample-sheet columns the groups and the covariates come from.
    empty_groups
        Combinations of factor levels seen in the sheet that have no sample (a
        contrast naming one is an "empty group" error, not an unknown name).
    """

    matrix: pd.DataFrame
    groups: pd.Series
    group_names: list[str]
    factors: list[str] = field(default_factory=list)
    covariates: list[str] = field(default_factory=list)
    empty_groups: list[str] = field(default_factory=list)

    @property
    def coefficients(self) -> list[str]:
        """Names of the design's columns."""
        return list(self.matrix.columns)


def _levels(values: pd.Series) -> list:
    """Levels in model order: category order if categorical, else sorted."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna().unique())
        return [c for c in values.cat.categories if c in present]
    uniq = pd.unique(values.dropna())
    try:
        return sorted(uniq)
    except TypeError:  # mixed types: sort by their text
        return sorted(uniq, key=str)


def _check_column(samples: pd.DataFrame, column: str, role: str) -> pd.Series:
    if column not in samples.columns:
        raise ConfigError(
            f"sample sheet has no column {column!r} (named as a {role}); "
            f"columns are {list(samples.columns)}"
        )
    values = samples[column]
    missing = values.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise ConfigError(f"sample sheet column {column!r} is empty in row {row + 1}")
    return values


def _group_labels(samples: pd.DataFrame, factors: list[str]) -> tuple[pd.Series, list[str]]:
    """Group name per sample and all level combinations in order."""
    columns = [_check_column(samples, f, "factor") for f in factors]
    level_lists = [_levels(c) for c in columns]
    text = [c.astype(str) for c in columns]
    raw = text[0] if len(text) == 1 else text[0].str.cat(text[1:], sep="_")
    # Distinct level tuples that join to one label (("x_y", "z") and ("x", "y_z"),
    # or 1 and "1") would silently share a group.
    seen = pd.DataFrame({"label": raw.to_numpy()})
    for i, c in enumerate(columns):
        seen[i] = c.to_numpy()
    seen = seen.drop_duplicates(subset=list(range(len(columns))))
    clash = seen["label"].duplicated(keep=False).to_numpy()
    if clash.any():
        rows = seen[clash]
        label = rows["label"].iloc[0]
        same = rows.loc[rows["label"] == label, list(range(len(columns)))]
        tuples = [tuple(r) for r in same.astype(object).to_numpy().tolist()]
        raise DesignError(
            f"factor value combinations {tuples[0]!r} and {tuples[1]!r} of {factors} both "
            f"make group {label!r}; rename a level in the sample sheet"
        )
    # A clash involving a combination absent from the sheet is harmless (the
    # label names the present one), but must not list the label twice.
    combos = list(
        dict.fromkeys("_".join(str(v) for v in combo) for combo in itertools.product(*level_lists))
    )
    return raw, combos


def _sanitize_all(raw_names: list[str], what: str) -> dict[str, str]:
    """Map raw -> sanitized names, refusing two raw names that become one."""
    mapping: dict[str, str] = {}
    seen: dict[str, str] = {}
    for raw in raw_names:
        clean = sanitize_name(raw)
        if clean in seen and seen[clean] != raw:
            raise DesignError(
                f"{what} {seen[clean]!r} and {raw!r} both become {clean!r} when made "
                "usable in contrast expressions; rename one of them in the sample sheet"
            )
        seen[clean] = raw
        mapping[raw] = clean
    return mapping


@dataclass(frozen=True)
class Covariate:
    """One covariate of the design.

    Attributes
    ----------
    name
        The sample-sheet column.
    type
        ``"auto"`` (numeric when every value is a finite number, else a
        factor), ``"numeric"`` (one slope; a value that is not a number is an
        error) or ``"factor"`` (one coefficient per level but the first).
    """

    name: str
    type: str = "auto"


COVARIATE_TYPES = ("auto", "numeric", "factor")


def covariate_spec(spec: str | Mapping[str, object] | Covariate) -> Covariate:
    """A :class:`Covariate` from a config entry.

    Accepted: a column name (``"rin"``, type auto), ``"C(batch)"`` (a factor),
    or a mapping ``{"name": "rin", "type": "numeric" | "factor" | "auto"}``.
    """
    if isinstance(spec, Covariate):
        return spec
    if isinstance(spec, Mapping):
        name = spec.get("name")
        kind = spec.get("type", "auto") or "auto"
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"covariate {dict(spec)!r}: 'name' must be a sample-sheet column")
        if kind not in COVARIATE_TYPES:
            raise ConfigError(
                f"covariate {name!r}: type must be one of {list(COVARIATE_TYPES)}, got {kind!r}"
            )
        return Covariate(name.strip(), str(kind))
    text = str(spec).strip()
    forced = _FORCED_FACTOR.match(text)
    if forced:
        return Covariate(forced.group(1).strip(), "factor")
    return Covariate(text, "auto")


def numeric_values(values: pd.Series) -> np.ndarray | None:
    """The column as floats when every value is a finite number, else None."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        out = values.to_numpy(dtype=float)
    else:
        out = pd.to_numeric(values.astype(str).str.strip(), errors="coerce").to_numpy(dtype=float)
    return out if np.isfinite(out).all() else None


def _covariate_columns(samples: pd.DataFrame, spec: str | Mapping | Covariate) -> pd.DataFrame:
    """Design columns of one covariate (one slope, or a treatment-coded factor)."""
    cov = covariate_spec(spec)
    name = cov.name
    values = _check_column(samples, name, "covariate")
    numbers = None if cov.type == "factor" else numeric_values(values)
    if cov.type == "numeric" and numbers is None:
        text = values.astype(str).str.strip()
        bad = pd.to_numeric(text, errors="coerce").isna() | text.eq("")
        row = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
        raise DesignError(
            f"covariate {name!r} is declared numeric but row {row + 1} holds "
            f"{text.iloc[row]!r}, not a finite number"
        )
    if numbers is not None:
        return pd.DataFrame({sanitize_name(name): numbers})
    levels = _levels(values)
    if len(levels) < 2:
        raise DesignError(
            f"covariate {name!r} has a single level ({levels[0]!r}); it cannot be estimated "
            "beside the groups - drop it from the covariates"
        )
    text = values.astype(str).to_numpy()
    cols = {}
    for level in levels[1:]:  # first level is the baseline
        cols[sanitize_name(f"{name}{level}")] = (text == str(level)).astype(float)
    if len(cols) != len(levels) - 1:
        raise DesignError(f"levels of covariate {name!r} collide once made identifiers")
    return pd.DataFrame(cols)


def build_design(
    samples: pd.DataFrame,
    *,
    factors: list[str],
    covariates: Sequence[str | Mapping[str, object] | Covariate] = (),
    sample_column: str = "sample",
) -> Design:
    """Build a cell-means design (``~0 + group + covariates``) from a sample sheet.

    Parameters
    ----------
    samples
        The sample sheet, one row per array (rows may repeat in a resampled sheet).
    factors
        Columns whose value combinations define the groups; values are joined
        with ``_`` (``cell_line=resistant``, ``treatment=fulvestrant_rapamycin``
        -> ``resistant_fulvestrant_rapamycin``), then sanitized.
    covariates
        Extra columns (see :func:`covariate_spec`).  A column whose values are
        all finite numbers (numeric dtype, or text that parses as numbers)
        enters as one slope; other columns are treatment-coded factors with the
        first sorted level as baseline.  Write ``{"name": "batch", "type":
        "factor"}`` or ``"C(batch)"`` to treat a numeric column (batch 1..5) as
        a factor.
    sample_column
        Column holding the sample ids (the design's row index).

    Returns
    -------
    Design

    Raises
    ------
    ConfigError
        A named column is missing or has empty cells.
    DesignError
        No factor given, group names collide once sanitized, a covariate has
        one level or its coefficients collide with group names.
    """
    factors = list(factors)
    if not factors:
        raise DesignError("build_design needs at least one factor to define the groups")
    if len(samples) == 0:
        raise DesignError("the sample sheet has no rows")
    ids = _check_column(samples, sample_column, "sample id column").astype(str)
    raw, combos = _group_labels(samples, factors)
    mapping = _sanitize_all(combos, "groups")
    present = set(raw.unique())
    order = [c for c in combos if c in present]
    group_names = [mapping[c] for c in order]
    empty = [mapping[c] for c in combos if c not in present]

    group_of = raw.map(mapping).to_numpy()
    onehot = (group_of[:, None] == np.asarray(group_names, dtype=object)[None, :]).astype(float)
    parts = [pd.DataFrame(onehot, columns=group_names)]
    for spec in covariates:
        parts.append(_covariate_columns(samples, spec))
    matrix = pd.concat(parts, axis=1)
    dup = matrix.columns[matrix.columns.duplicated()].unique().tolist()
    if dup:
        raise DesignError(
            f"design coefficient name(s) {dup} are used twice (a covariate level and a group "
            "share a name); rename the covariate or its levels"
        )
    index = pd.Index(ids.to_numpy(), name=sample_column)
    matrix.index = index
    groups = pd.Series(group_of, index=index, name="group")
    return Design(
        matrix=matrix,
        groups=groups,
        group_names=group_names,
        factors=factors,
        covariates=[covariate_spec(c).name for c in covariates],
        empty_groups=empty,
    )


def design_table(design: Design) -> pd.DataFrame:
    """One row per group (arrays, samples) and per covariate (slope or factor).

    Columns ``term``, ``kind`` (``group``, ``numeric covariate`` or ``factor
    covariate``), ``arrays`` and ``samples`` (comma-separated; the covariate's
    design columns for a covariate).
    """
    groups = design.groups
    rows = []
    for name in design.group_names:
        members = groups.index[groups.to_numpy() == name].astype(str).tolist()
        rows.append(
            {"term": name, "kind": "group", "arrays": len(members), "samples": ", ".join(members)}
        )
    n_groups = len(design.group_names)
    covariate_columns = design.coefficients[n_groups:]
    for name in design.covariates:
        slope = sanitize_name(name)
        if slope in covariate_columns:
            rows.append(
                {"term": name, "kind": "numeric covariate", "arrays": len(groups), "samples": slope}
            )
        else:
            prefix = sanitize_name(name)
            columns = [c for c in covariate_columns if c.startswith(prefix)]
            rows.append(
                {
                    "term": name,
                    "kind": "factor covariate",
                    "arrays": len(groups),
                    "samples": ", ".join(columns),
                }
            )
    return pd.DataFrame(rows, columns=["term", "kind", "arrays", "samples"])
