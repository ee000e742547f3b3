"""Binary "XDA" CEL files, version 4 (GCOS 1.x), little-endian.

Layout (Affymetrix CEL file format specification, version 4): magic 64,
version 4, rows, cols, number of cells, then three length-prefixed strings
(the text header with ``key=value`` lines, the algorithm name, its
parameters), cell margin, number of outliers, number of masks, number of
sub-grids; then ``rows*cols`` packed records ``(float32 mean, float32 stdev,
int16 pixels)``; then the masked and the outlier cells as ``(int16 x, int16 y)``.

Rows come before cols: the published specification lists cols first, but the
Affymetrix Fusion SDK reads rows first, and affyio follows the SDK (its
reader says so); for a non-square array the two orders differ.
"""

from __future__ import annotations

import struct

import numpy as np

from sigrestore.errors import FormatError
from sigrestore.io._source import Buffer
from sigrestore.io.cel_common import check_int16, chip_type_from_dat_header, parse_key_values

MAGIC = 64
VERSION = 4
CELL_DTYPE = np.dtype([("mean", "<f4"), ("stdev", "<f4"), ("npixels", "<i2")])
XY_DTYPE = np.dtype([("x", "<i2"), ("y", "<i2")])


def _text(buf: Buffer, what: str) -> str:
    return buf.string(what).decode("latin-1")


def _header(buf: Buffer) -> dict:
    magic, version = buf.unpack("ii", "file header")
    if magic != MAGIC:
        raise FormatError(f"{buf.name}: not an XDA CEL file (magic {magic}, expected 64)")
    if version != VERSION:
        raise FormatError(
            f"{buf.name}: XDA CEL version {version} is not supported (only version 4)"
        )
    rows, cols, n_cells = buf.unpack("iii", "file header")
    text = _text(buf, "text header")
    algorithm = _text(buf, "algorithm name")
    params = _text(buf, "algorithm parameters")
    header = parse_key_values(text.replace("\r", "").split("\n"))
    header["Algorithm"] = algorithm
    header["AlgorithmParameters"] = params
    if rows <= 0 or cols <= 0:
        raise FormatError(f"{buf.name}: invalid array dimensions rows={rows}, cols={cols}")
    chip = chip_type_from_dat_header(header, buf.name)
    return {
        "format": "xda-v4",
        "chip_type": chip,
        "rows": rows,
        "cols": cols,
        "n_cells": n_cells,
        "header": header,
    }


def xda_header_fields(buf: Buffer) -> dict:
    out = _header(buf)
    out.pop("n_cells")
    return out


def read_xda(buf: Buffer) -> dict:
    """Parse a whole XDA v4 CEL file into the fields of CelData."""
    out = _header(buf)
    rows, cols, n_cells = out["rows"], out["cols"], out.pop("n_cells")
    if n_cells != rows * cols:
        raise FormatError(
            f"{buf.name}: header says {n_cells} cells, but rows*cols = "
            f"{rows}*{cols} = {rows * cols}"
        )
    _margin, n_outliers, n_masks, _n_subgrids = buf.unpack("iIIi", "file header")
    cells = buf.array(CELL_DTYPE, n_cells, f"cell block ({n_cells} cells of 10 bytes)")
    masks = buf.array(XY_DTYPE, n_masks, f"mask list ({n_masks} cells)")
    outliers = buf.array(XY_DTYPE, n_outliers, f"outlier list ({n_outliers} cells)")
    out["intensity"] = cells["mean"]
    out["stdev"] = cells["stdev"]
    out["npixels"] = cells["npixels"]
    out["masks_xy"] = np.column_stack([masks["x"], masks["y"]]).astype(np.int64)
    out["outliers_xy"] = np.column_stack([outliers["x"], outliers["y"]]).astype(np.int64)
    return out


def encode_xda(
    *,
    rows: int,
    cols: int,
    header_text: str,
    algorithm: str,
    params: str,
    intensity: np.ndarray,
    stdev: np.ndarray,
    npixels: np.ndarray,
    masks_xy: np.ndarray,
    outliers_xy: np.ndarray,
) -> bytes:
    """Encode one array as an XDA v4 CEL file (values stored as float32)."""
    n = rows * cols
    check_int16(npixels=npixels, masks_xy=masks_xy, outliers_xy=outliers_xy)
    cells = np.empty(n, dtype=CELL_DTYPE)
    cells["mean"] = intensity
    cells["stdev"] = stdev
    cells["npixels"] = npixels

    def xy(a: np.ndarray) -> bytes:
        rec = np.empty(len(a), dtype=XY_DTYPE)
        rec["x"] = a[:, 0]
        rec["y"] = a[:, 1]
        return rec.tobytes()

    def s(t: str) -> bytes:
        raw = t.encode("latin-1", errors="replace")
        return struct.pack("<i", len(raw)) + raw

    head = (
        struct.pack("<iiiii", MAGIC, VERSION, rows, cols, n)
        + s(header_text)
        + s(algorithm)
        + s(params)
        + struct.pack("<iIIi", 2, len(outliers_xy), len(masks_xy), 0)
    )
    return head + cells.tobytes() + xy(masks_xy) + xy(outliers_xy)
