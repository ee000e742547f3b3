"""Pieces shared by the text and XDA CEL readers: header lines and the chip type."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from sigrestore.errors import FormatError

INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1

# The DAT header names the scanned chip as "<chip type>.1sq" (the scanner's
# library file); affyio takes the chip type from there, and so do we.
_CHIP_RE = re.compile(r"([^\s\x14\x00]+)\.1sq", re.IGNORECASE)


def parse_key_values(lines: Iterable[str]) -> dict[str, str]:
    """``key=value`` lines to a dict (first occurrence wins; other lines ignored)."""
    out: dict[str, str] = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if sep and key.strip() and key.strip() not in out:
            out[key.strip()] = value.rstrip("\r")
    return out


def chip_type_from_dat_header(header: dict[str, str], name: str) -> str:
    """The chip type named in ``DatHeader`` (the token before ``.1sq``)."""
    dat = header.get("DatHeader")
    if dat is None:
        raise FormatError(f"{name}: header has no DatHeader line, so no chip type")
    m = _CHIP_RE.search(dat)
    if m is None:
        raise FormatError(f"{name}: cannot find the chip type ('<name>.1sq') in DatHeader")
    return m.group(1)


def make_dat_header(chip_type: str, *, rows: int, cols: int) -> str:
    """A minimal DAT header in the scanner's layout, naming ``chip_type``."""
    return (
        f"[0..46000]  sigrestore:CLS={cols} RWS={rows} XIN=3  YIN=3  VE=17        2.0 "
        f"01/01/20 00:00:00       \x14  \x14 {chip_type}.1sq \x14  \x14  \x14  \x14  \x14  "
        "\x14  \x14  \x14  \x14 6"
    )


def check_int16(*, npixels: np.ndarray, masks_xy: np.ndarray, outliers_xy: np.ndarray) -> None:
    """Raise ValueError when a value bound for an int16 column would wrap.

    The binary CEL formats (XDA, Command Console) store pixel counts and the
    mask/outlier coordinates as int16.  numpy casts silently (40000 becomes
    -25536), and the reader then refuses the file it wrote; a writer must
    refuse the data instead.
    """
    fields = {
        "npixels": npixels,
        "mask_x": masks_xy[:, 0],
        "mask_y": masks_xy[:, 1],
        "outlier_x": outliers_xy[:, 0],
        "outlier_y": outliers_xy[:, 1],
    }
    for field, values in fields.items():
        arr = np.asarray(values)
        if arr.size == 0:
            continue
        bad = (arr < INT16_MIN) | (arr > INT16_MAX)
        if bad.any():
            first = arr.reshape(-1)[int(np.argmax(bad.reshape(-1)))]
            raise ValueError(
                f"{field}: {int(bad.sum())} value(s) outside the int16 range "
                f"[{INT16_MIN}, {INT16_MAX}] of the file format (first: {first})"
            )
