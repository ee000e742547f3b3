"""One plain sentence per comparison from its ``summary.tsv``."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from sigrestore.restoration import ComparisonSpec

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
    if corrected is not None and not after:
        # The summary has the corrected column but it is NA: say so rather
        # than present the called fraction as if it were the corrected one.
        note = row.get("corrected_note")
        reason = f" ({note})" if note is not None and not _missing(note) and note else ""
        return (
            f"{name}: {_pct(value)}{interval} of the {size_text} reference signature are"
            f" called restored; the power-corrected fraction is NA{reason}."
        )
    return (
        f"{name}: the cotreatment restores {_pct(value)}{interval} of the {size_text}"
        f" reference signature{after}."
    )


def _missing(x) -> bool:
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return x in ("", None)


def headlines(
    comparisons: Iterable[ComparisonSpec], workdir: str | os.PathLike[str] = "."
) -> list[str]:
    """One sentence per comparison whose results exist under ``workdir``.

    The sentence of the comparison's ``headline.tsv`` (the one the report opens
    with) when it exists, else one made from its ``summary.tsv``.

    Parameters
    ----------
    comparisons
        The resolved comparisons (``Settings.comparisons`` of
        :func:`sigrestore.config.check_config`): their names, levels and
        bootstrap confidence.
    workdir
        The folder the workflow ran in (``results/`` under it).
    """
    out = []
    for spec in comparisons:
        name = spec.name
        folder = Path(workdir) / "results" / "restoration" / name
        sentence = _report_sentence(folder / "headline.tsv")
        if sentence:
            # The sentence the report opens with (restoration.headline).
            out.append(f"{name}: {sentence}")
            continue
        path = folder / "summary.tsv"
        if not path.is_file():
            out.append(f"{name}: no summary ({path} was not written).")
            continue
        table = pd.read_csv(path, sep="\t", keep_default_na=True)
        if table.empty:
            out.append(f"{name}: {path} is empty.")
            continue
        row = {"level": spec.level, **table.iloc[0].to_dict()}
        out.append(comparison_sentence(name, row, confidence=spec.bootstrap.confidence))
    return out


def _report_sentence(path: Path) -> str:
    """The ``sentence`` of a comparison's ``headline.tsv``; "" when there is none."""
    if not path.is_file():
        return ""
    table = pd.read_csv(path, sep="\t")
    if table.empty or "sentence" not in table.columns:
        return ""
    sentence = table["sentence"].iloc[0]
    return sentence if isinstance(sentence, str) else ""
