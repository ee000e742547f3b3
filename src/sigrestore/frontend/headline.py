"""One plain sentence per comparison from its ``summary.tsv``."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

__all__ = ["comparison_sentence", "headlines"]


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def comparison_sentence(name: str, row: Mapping, *, confidence: float = 0.95) -> str:
    """The headline of one comparison.

    Uses the power-corrected fraction (``restored_fraction_corrected``,
    ``corrected_low``, ``corrected_high``) when the summary has it, else
    ``restored_fraction`` with its Wilson interval (``ci_low``, ``ci_high``).
    """
    level = str(row.get("level") or "feature")
    noun = {"gene": "gene", "probeset": "probe-set"}.get(level, level)
    size = row.get("signature_size")
    size_text = f"{int(size)}-{noun}" if size is not None and not _missing(size) else noun
    corrected = row.get("restored_fraction_corrected")
    if corrected is not None and not _missing(corrected):
        value, low, high = corrected, row.get("corrected_low"), row.get("corrected_high")
        after = " after correcting for power"
    else:
        value, low, high = row.get("restored_fraction"), row.get("ci_low"), row.get("ci_high")
        after = ""
    if value is None or _missing(value):
        return (
            f"{name}: the {size_text} reference signature is empty, so no restored fraction"
            " can be given (loosen fdr/lfc or check the reference contrast)."
        )
    interval = ""
    if low is not None and high is not None and not (_missing(low) or _missing(high)):
        interval = f" ({confidence:.0%} CI {_pct(low)}-{_pct(high)})"
    return (
        f"{name}: the cotreatment restores {_pct(value)}{interval} of the {size_text}"
        f" reference signature{after}."
    )


def _missing(x) -> bool:
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return x in ("", None)


def headlines(config: Mapping, workdir: str | os.PathLike[str] = ".") -> list[str]:
    """One sentence per comparison of ``config`` whose summary exists under ``workdir``."""
    out = []
    for comp in config.get("comparisons") or []:
        name = comp["name"]
        path = Path(workdir) / "results" / "restoration" / name / "summary.tsv"
        if not path.is_file():
            out.append(f"{name}: no summary ({path} was not written).")
            continue
        table = pd.read_csv(path, sep="\t", keep_default_na=True)
        if table.empty:
            out.append(f"{name}: {path} is empty.")
            continue
        confidence = (comp.get("bootstrap") or {}).get("confidence", 0.95)
        out.append(comparison_sentence(name, table.iloc[0].to_dict(), confidence=confidence))
    return out
