"""One-line summaries of CEL and CDF files (what ``sigrestore inspect`` prints)."""

from __future__ import annotations

import math
import os

import numpy as np

from sigrestore.errors import FormatError
from sigrestore.io._source import read_source
from sigrestore.io.cdf import parse_cdf_bytes, sniff_cdf
from sigrestore.io.cel import parse_cel_bytes, sniff_cel


def file_kind(data: bytes, name: str) -> str:
    """``"cel"`` or ``"cdf"`` from the content; raises listing all formats tried."""
    if not data:
        raise FormatError(f"{name}: file is empty")
    try:
        sniff_cel(data, name)
        return "cel"
    except FormatError as cel_err:
        try:
            sniff_cdf(data, name)
            return "cdf"
        except FormatError:
            if "CDF" in str(cel_err) and "not a CEL" in str(cel_err):
                raise
            raise FormatError(
                f"{name}: neither a CEL file (tried text v3, XDA v4, Command Console) nor a "
                f"CDF file (tried ASCII, XDA); {str(cel_err).rsplit('; ', 1)[-1]}"
            ) from None


def inspect_file(path: str | os.PathLike[str]) -> dict:
    """Summary of a CEL or CDF file as a JSON-ready dict."""
    name = str(path)
    data, gzipped, _ = read_source(path)
    kind = file_kind(data, name)
    if kind == "cel":
        cel = parse_cel_bytes(data, name)
        total = float(np.sum(cel.intensity))
        return {
            "file": name,
            "kind": "CEL",
            "format": cel.format,
            "gzipped": gzipped,
            "chip_type": cel.chip_type,
            "rows": cel.rows,
            "cols": cel.cols,
            "n_cells": cel.n_cells,
            "intensity_sum": total if math.isfinite(total) else None,
            "n_masks": len(cel.masks),
            "n_outliers": len(cel.outliers),
        }
    cdf = parse_cdf_bytes(data, name)
    return {
        "file": name,
        "kind": "CDF",
        "format": sniff_cdf(data, name),
        "gzipped": gzipped,
        "chip_type": cdf.chip_type,
        "rows": cdf.rows,
        "cols": cdf.cols,
        "n_probesets": cdf.n_probesets,
        "n_pm": len(cdf.pm_index),
        "n_mm": len(cdf.mm_index),
    }
