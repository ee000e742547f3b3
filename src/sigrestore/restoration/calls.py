"""Signature and status calls from limma-style tables.

Every call is a vector over features with values +1 (up), -1 (down) or 0 (not
called).  Missing statistics (NaN) never produce a call.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sigrestore.errors import ConfigError, DesignError
from sigrestore.restoration.spec import ComparisonSpec

REQUIRED_COLUMNS = ("logFC", "t", "P.Value", "adj.P.Val")

RESTORED, REVERSED, NOT_RESTORED = "restored", "reversed", "not_restored"
STATUSES = (RESTORED, REVERSED, NOT_RESTORED)
RETAINED, LOST = "retained", "lost"


def check_table(table: pd.DataFrame, contrast: str) -> None:
    """Raise DesignError unless ``table`` has the columns and unique index a call needs."""
    if not isinstance(table, pd.DataFrame):
        kind = type(table).__name__
        raise DesignError(f"contrast {contrast!r}: expected a DataFrame, got {kind}")
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise DesignError(f"contrast {contrast!r}: table lacks column(s) {missing}")
    if not table.index.is_unique:
        dup = table.index[table.index.duplicated()][0]
        raise DesignError(f"contrast {contrast!r}: feature id {dup!r} occurs more than once")


def _as_calls(called: np.ndarray, logfc: np.ndarray, index: pd.Index) -> pd.Series:
    # np.sign of a NaN logFC is NaN; such features are never called.
    sign = np.sign(np.nan_to_num(logfc, nan=0.0))
    return pd.Series(np.where(called, sign, 0).astype(np.int8), index=index, name="call")


def direction_calls(table: pd.DataFrame, *, fdr: float, lfc: float = 0.0) -> pd.Series:
    """Call +1/-1 where ``adj.P.Val < fdr`` and ``|logFC| >= lfc``, else 0.

    Parameters
    ----------
    table : DataFrame
        limma topTable-like table indexed by feature id.
    fdr, lfc : float
        Thresholds on the adjusted p-value (strict) and on |logFC| (inclusive).

    Returns
    -------
    Series of int8 indexed like ``table``.
    """
    p = table["adj.P.Val"].to_numpy(dtype=float)
    logfc = table["logFC"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        called = (p < fdr) & (np.abs(logfc) >= lfc)
    return _as_calls(called, logfc, table.index)


def signature_calls(
    table: pd.DataFrame,
    *,
    fdr: float,
    lfc: float,
    method: str = "threshold",
    top_n: int | None = None,
) -> pd.Series:
    """The reference signature S with its directions (+1 up, -1 down, 0 outside S).

    Parameters
    ----------
    table : DataFrame
        The reference contrast's table (logFC, t, P.Value, adj.P.Val).
    fdr, lfc : float
        Thresholds, used as described under ``method``.
    method : {"threshold", "treat", "top"}
        - "threshold": ``adj.P.Val < fdr`` and ``|logFC| >= lfc``.
        - "treat": ``adj.P.Val < fdr``; the table must come from limma's TREAT
          against ``lfc`` (its p-values already test ``|logFC| > lfc``).
        - "top": the ``top_n`` features with the smallest ``P.Value`` (ties
          broken by larger ``|t|``, then by feature id), whatever their p-value.
    top_n : int, optional
        Required for method "top".

    Returns
    -------
    Series of int8 (+1/-1/0) indexed like ``table``.  A feature with logFC
    exactly 0 has no direction and is never in S.
    """
    logfc = table["logFC"].to_numpy(dtype=float)
    if method == "threshold":
        return direction_calls(table, fdr=fdr, lfc=lfc)
    if method == "treat":
        p = table["adj.P.Val"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            return _as_calls(p < fdr, logfc, table.index)
    if method == "top":
        if top_n is None or top_n < 1:
            raise ConfigError(f"signature method 'top' needs a positive top_n, got {top_n!r}")
        p = table["P.Value"].to_numpy(dtype=float)
        abs_t = np.abs(table["t"].to_numpy(dtype=float))
        ids = table.index.astype(str).to_numpy()
        valid = np.flatnonzero(~np.isnan(p))
        if top_n > len(table):
            # (More than the features *with* a p-value is fine: a resample may lose some.)
            raise ConfigError(
                f"signature method 'top': top_n {top_n} is more than the {len(table)} features;"
                " the signature would silently be all of them"
            )
        # lexsort sorts by the last key first: p ascending, then |t| descending, then id.
        order = valid[np.lexsort((ids[valid], -abs_t[valid], p[valid]))]
        called = np.zeros(len(table), dtype=bool)
        called[order[:top_n]] = True
        return _as_calls(called, logfc, table.index)
    raise ConfigError(f"unknown signature method {method!r}; use threshold, treat or top")


def restoration_status(signature: pd.Series, calls: pd.Series) -> pd.Series:
    """Status of every signature feature in the restoration contrast.

    Parameters
    ----------
    signature : Series
        +1/-1/0 directions d (from :func:`signature_calls`); only non-zero entries are S.
    calls : Series
        +1/-1/0 calls c of the restoration contrast, indexed by feature id.

    Returns
    -------
    Series of str over S: "restored" if c == d, "reversed" if c == -d,
    otherwise "not_restored".
    """
    d, c = _aligned(signature, calls, "restoration")
    status = np.where(c == d, RESTORED, np.where(c == -d, REVERSED, NOT_RESTORED))
    return pd.Series(status, index=d.index, name="status")


def resistance_status(signature: pd.Series, calls: pd.Series) -> pd.Series:
    """Per signature feature: "retained" if the resistance contrast calls it in direction d.

    Otherwise "lost".
    """
    d, c = _aligned(signature, calls, "resistance")
    return pd.Series(np.where(c == d, RETAINED, LOST), index=d.index, name="resistance_status")


def modulator_flags(signature: pd.Series, status: pd.Series, calls: pd.Series) -> pd.Series:
    """True for restored features that the modulator alone also calls in direction d."""
    d, c = _aligned(signature, calls, "modulator")
    flags = (status.reindex(d.index).to_numpy() == RESTORED) & (c == d)
    return pd.Series(flags, index=d.index, name="modulator")


def _aligned(signature: pd.Series, calls: pd.Series, role: str) -> tuple[pd.Series, np.ndarray]:
    d = signature[signature != 0]
    missing = d.index.difference(calls.index)
    if len(missing):
        raise DesignError(
            f"{len(missing)} signature feature(s) missing from the {role} contrast,"
            f" e.g. {missing[0]!r}"
        )
    return d, calls.reindex(d.index).to_numpy()


def comparison_calls(tables: Mapping[str, pd.DataFrame], spec: ComparisonSpec) -> pd.DataFrame:
    """Calls of every role over all features of the reference table.

    Returns a DataFrame indexed like the reference table with int8 columns
    ``signature``, ``restoration`` and, when the spec names them, ``resistance``
    and ``modulator``.  Raises ConfigError when a named contrast has no table and
    DesignError when a table is malformed or lacks features of the reference.
    """
    roles = {"reference": spec.reference, "restoration": spec.restoration}
    if spec.resistance is not None:
        roles["resistance"] = spec.resistance
    if spec.modulator is not None:
        roles["modulator"] = spec.modulator
    for role, contrast in roles.items():
        if contrast not in tables:
            raise ConfigError(
                f"comparison {spec.name!r}: key {role!r} names contrast {contrast!r},"
                f" which is not among the DE tables {sorted(tables)}"
            )
        check_table(tables[contrast], contrast)
    ref = tables[spec.reference]
    sig = spec.signature
    out = {
        "signature": signature_calls(
            ref, fdr=sig.fdr, lfc=sig.lfc, method=sig.method, top_n=sig.top_n
        ).to_numpy()
    }
    thresholds = {
        "restoration": spec.restoration_call,
        "resistance": spec.resistance_call,
        "modulator": spec.modulator_call,
    }
    for role in ("restoration", "resistance", "modulator"):
        if role not in roles:
            continue
        table = tables[roles[role]]
        missing = ref.index.difference(table.index)
        if len(missing):
            raise DesignError(
                f"comparison {spec.name!r}: {len(missing)} feature(s) of the reference contrast"
                f" are missing from {role} contrast {roles[role]!r}, e.g. {missing[0]!r}"
            )
        th = thresholds[role]
        out[role] = direction_calls(table.reindex(ref.index), fdr=th.fdr, lfc=th.lfc).to_numpy()
    return pd.DataFrame(out, index=ref.index)


def classify_signature(calls: pd.DataFrame) -> pd.DataFrame:
    """Per signature feature: ``direction`` (+1/-1), ``status`` and the optional splits.

    ``calls`` is the output of :func:`comparison_calls`.  Adds ``resistance_status``
    when a ``resistance`` column is present and ``modulator`` when a ``modulator``
    column is present.
    """
    signature = calls["signature"]
    status = restoration_status(signature, calls["restoration"])
    out = pd.DataFrame({"direction": signature[signature != 0], "status": status})
    if "resistance" in calls:
        out["resistance_status"] = resistance_status(signature, calls["resistance"])
    if "modulator" in calls:
        out["modulator"] = modulator_flags(signature, status, calls["modulator"])
    return out


def status_counts(classified: pd.DataFrame) -> dict[str, int]:
    """Counts behind every fraction: sizes, statuses overall, per direction, lost part."""
    d = classified["direction"].to_numpy()
    s = classified["status"].to_numpy()
    up, down = d > 0, d < 0
    restored, reversed_ = s == RESTORED, s == REVERSED
    counts = {
        "signature_size": len(d),
        "signature_up": int(up.sum()),
        "signature_down": int(down.sum()),
        "restored": int(restored.sum()),
        "reversed": int(reversed_.sum()),
        "not_restored": int((s == NOT_RESTORED).sum()),
        "restored_up": int((restored & up).sum()),
        "restored_down": int((restored & down).sum()),
        "reversed_up": int((reversed_ & up).sum()),
        "reversed_down": int((reversed_ & down).sum()),
    }
    if "resistance_status" in classified:
        lost = classified["resistance_status"].to_numpy() == LOST
        counts |= {
            "retained": int((~lost).sum()),
            "lost": int(lost.sum()),
            "lost_up": int((lost & up).sum()),
            "lost_down": int((lost & down).sum()),
            "lost_restored": int((lost & restored).sum()),
            "lost_reversed": int((lost & reversed_).sum()),
            "lost_not_restored": int((lost & (s == NOT_RESTORED)).sum()),
        }
    if "modulator" in classified:
        flagged = classified["modulator"].to_numpy(dtype=bool)
        counts |= {
            "modulator_flagged": int(flagged.sum()),
            "restored_beyond_modulator": int((restored & ~flagged).sum()),
        }
    return counts


def fraction(count: int, total: int) -> float:
    """``count / total``, NaN when ``total`` is 0."""
    return count / total if total else float("nan")


def status_fractions(counts: Mapping[str, int]) -> dict[str, float]:
    """The restored fractions derived from :func:`status_counts`."""
    out = {
        "restored_fraction": fraction(counts["restored"], counts["signature_size"]),
        "restored_fraction_up": fraction(counts["restored_up"], counts["signature_up"]),
        "restored_fraction_down": fraction(counts["restored_down"], counts["signature_down"]),
    }
    if "lost" in counts:
        out["lost_restored_fraction"] = fraction(counts["lost_restored"], counts["lost"])
    if "modulator_flagged" in counts:
        out["restored_beyond_modulator_fraction"] = fraction(
            counts["restored_beyond_modulator"], counts["signature_size"]
        )
    return out
