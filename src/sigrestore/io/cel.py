"""Reading and writing CEL files: format detection, validation, dispatch.

The format is always detected from the content (after transparent gunzip),
never from the file name: text v3 starts with ``[CEL]``, XDA v4 with the
little-endian int32 64, Command Console with the byte 59 followed by a version
byte (any version is detected; the reader says which ones it supports).
"""

from __future__ import annotations

import os
import struct

import numpy as np

from sigrestore.errors import FormatError
from sigrestore.io import cdf_ascii, cdf_xda, cel_calvin, cel_text, cel_xda
from sigrestore.io._source import (
    CORRUPT_DATA_ERRORS,
    Buffer,
    NeedMoreBytes,
    describe_content,
    read_source,
    write_output,
)
from sigrestore.io.cel_common import chip_type_from_dat_header, make_dat_header
from sigrestore.io.models import CelData

CEL_FORMATS = ("text-v3", "xda-v4", "calvin")
_TRIED = "text v3 ('[CEL]' header), binary XDA v4 (magic 64), Command Console/AGCC (magic 59)"


def sniff_cel(data: bytes, name: str) -> str:
    """Return ``"text-v3"``, ``"xda-v4"`` or ``"calvin"`` for the content ``data``."""
    if not data:
        raise FormatError(f"{name}: file is empty")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(cel_text.SIGNATURE):
        return "text-v3"
    if len(data) >= 4 and struct.unpack_from("<i", data)[0] == cel_xda.MAGIC:
        return "xda-v4"  # the version is checked (and reported) by the reader
    if cel_calvin.looks_like_calvin(data):
        return "calvin"  # the version is checked (and reported) by the reader
    if data.lstrip().startswith(cdf_ascii.SIGNATURE) or (
        len(data) >= 4 and struct.unpack_from("<i", data)[0] == cdf_xda.MAGIC
    ):
        raise FormatError(f"{name}: this is a CDF (array layout) file, not a CEL file")
    short = f"file is truncated ({len(data)} bytes), " if len(data) < 16 else ""
    raise FormatError(
        f"{name}: {short}not a CEL file in any supported format (tried {_TRIED}); "
        f"{describe_content(data)}"
    )


def _to_indices(xy: np.ndarray, rows: int, cols: int, what: str, name: str) -> np.ndarray:
    """Mask/outlier (x, y) pairs to sorted unique cell indices, checking the range."""
    xy = np.asarray(xy, dtype=np.int64).reshape(-1, 2)
    x, y = xy[:, 0], xy[:, 1]
    bad = (x < 0) | (y < 0) | (x >= cols) | (y >= rows)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise FormatError(
            f"{name}: {int(bad.sum())} {what} coordinate(s) outside the {cols} x {rows} array "
            f"(first: x={x[k]}, y={y[k]})"
        )
    return np.unique(y * cols + x)


def _check_values(intensity: np.ndarray, stdev: np.ndarray | None, name: str) -> None:
    arrays = [("intensity", intensity)]
    if stdev is not None:
        arrays.append(("standard deviation", stdev))
    for what, arr in arrays:
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(np.isinf(arr).sum())
        n_neg = int((arr < 0).sum())
        problems = [
            f"{n} {kind}"
            for n, kind in ((n_nan, "NaN"), (n_inf, "infinite"), (n_neg, "negative"))
            if n
        ]
        if problems:
            raise FormatError(f"{name}: {' and '.join(problems)} {what} value(s)")


def _build(fields: dict, path: str) -> CelData:
    rows, cols, name = fields["rows"], fields["cols"], path
    with np.errstate(invalid="ignore"):  # NaNs are reported below, with their count
        intensity = np.asarray(fields["intensity"], dtype=np.float64)
        stdev = np.asarray(fields["stdev"], dtype=np.float64)
    npixels = np.asarray(fields["npixels"]).astype(np.int32)
    _check_values(intensity, stdev, name)
    if (npixels < 0).any():
        raise FormatError(f"{name}: {int((npixels < 0).sum())} negative pixel count(s)")
    return CelData(
        path=path,
        format=fields["format"],
        chip_type=fields["chip_type"],
        rows=rows,
        cols=cols,
        intensity=intensity,
        stdev=stdev,
        npixels=npixels,
        masks=_to_indices(fields["masks_xy"], rows, cols, "mask", name),
        outliers=_to_indices(fields["outliers_xy"], rows, cols, "outlier", name),
        header=dict(fields["header"]),
    )


def _parse_fields(data: bytes, name: str, fmt: str, *, intensities_only: bool = False) -> dict:
    """The fields of CEL content of format ``fmt`` (text v3: optionally the
    intensities only), any low-level failure a FormatError naming the file."""
    try:
        if fmt == "text-v3":
            return cel_text.read_text(data, name, intensities_only=intensities_only)
        if fmt == "xda-v4":
            return cel_xda.read_xda(Buffer(data, name, "<"))
        return cel_calvin.read_calvin(Buffer(data, name, ">"))
    except CORRUPT_DATA_ERRORS as exc:
        # Guard rails: corrupt sizes must never escape as low-level errors.
        raise FormatError(f"{name}: corrupt {fmt} CEL file ({type(exc).__name__}: {exc})") from None


def parse_cel_bytes(data: bytes, name: str) -> CelData:
    """Parse CEL content already in memory (``name`` is used in messages)."""
    return _build(_parse_fields(data, name, sniff_cel(data, name)), name)


def read_cel(path: str | os.PathLike[str]) -> CelData:
    """Read a CEL file: text v3, binary XDA v4 or Command Console, each plain or gzipped.

    Parameters
    ----------
    path
        The CEL file. Its format is detected from the content.

    Returns
    -------
    CelData
        Intensities, standard deviations and pixel counts (cell index
        ``y * cols + x``), masked and outlier cell indices, and the header.

    Raises
    ------
    FormatError
        When the file is empty, truncated, of another format or inconsistent;
        the message names the file and the problem.
    """
    name = str(path)
    data, _, _ = read_source(path)
    return parse_cel_bytes(data, name)


def read_cel_intensity(path: str | os.PathLike[str]) -> np.ndarray:
    """Only the cell intensities of a CEL file (cell index ``y * cols + x``), float64.

    What RMA reads (as affyio's ``intensity.means.only = TRUE``, which
    ``ReadAffy`` uses): for text v3 files only the coordinates and means are
    converted, about a third faster than :func:`read_cel`; binary files are
    read whole (their parse is a memory copy).  The same checks as
    :func:`read_cel` apply to the intensities and the cell list.

    Raises
    ------
    FormatError
        As :func:`read_cel`; the message names the file.
    """
    name = str(path)
    data, _, _ = read_source(path)
    if sniff_cel(data, name) != "text-v3":
        return parse_cel_bytes(data, name).intensity
    fields = _parse_fields(data, name, "text-v3", intensities_only=True)
    with np.errstate(invalid="ignore"):  # NaNs are reported below, with their count
        intensity = np.asarray(fields["intensity"], dtype=np.float64)
    _check_values(intensity, None, name)
    return intensity


def read_cel_header(path: str | os.PathLike[str]) -> dict:
    """Read only the header of a CEL file.

    Returns
    -------
    dict
        ``format``, ``chip_type``, ``rows``, ``cols``, ``gzipped`` and
        ``header`` (the raw header fields).
    """
    name = str(path)
    limit = 1 << 16
    while True:
        data, gzipped, complete = read_source(path, limit=limit)
        fmt = sniff_cel(data, name)
        try:
            if fmt == "text-v3":
                out = cel_text.text_header_fields(data, name, complete=complete)
            elif fmt == "xda-v4":
                out = cel_xda.xda_header_fields(Buffer(data, name, "<", complete=complete))
            else:
                out = cel_calvin.calvin_header_fields(Buffer(data, name, ">", complete=complete))
        except NeedMoreBytes:
            limit *= 8
            continue
        except CORRUPT_DATA_ERRORS as exc:
            raise FormatError(f"{name}: corrupt {fmt} CEL header ({exc})") from None
        out["gzipped"] = gzipped
        return out


def _xy(indices: np.ndarray, cols: int) -> np.ndarray:
    idx = np.asarray(indices, dtype=np.int64)
    return np.column_stack([idx % cols, idx // cols])


def encode_cel(data: CelData, *, format: str = "text-v3") -> bytes:
    """The bytes of ``data`` as a CEL file of ``format`` (uncompressed).

    Values are written as given (the readers, not the writers, refuse NaN or
    negative intensities), so tests can build faulty files with it.
    """
    if format not in CEL_FORMATS:
        raise ValueError(f"unknown CEL format {format!r}; use one of {', '.join(CEL_FORMATS)}")
    n = data.rows * data.cols
    for what, arr in (
        ("intensity", data.intensity),
        ("stdev", data.stdev),
        ("npixels", data.npixels),
    ):
        if np.shape(arr) != (n,):
            raise ValueError(f"{what} has shape {np.shape(arr)}, expected ({n},)")
    # Header fields carried over (from any source format) must fit on one line.
    header = {
        k: v
        for k, v in data.header.items()
        if k not in ("Version", "Cols", "Rows") and "\n" not in v and "\r" not in v and "=" not in k
    }
    try:
        has_chip = chip_type_from_dat_header(header, "") == data.chip_type
    except FormatError:
        has_chip = False
    if not has_chip:
        header["DatHeader"] = make_dat_header(data.chip_type, rows=data.rows, cols=data.cols)
    masks_xy = _xy(data.masks, data.cols)
    outliers_xy = _xy(data.outliers, data.cols)
    common = dict(
        intensity=data.intensity,
        stdev=data.stdev,
        npixels=data.npixels,
        masks_xy=masks_xy,
        outliers_xy=outliers_xy,
    )
    # Text and XDA files name the scanner's algorithm (Command Console ones
    # carry it as parameters of their own).
    header.setdefault("Algorithm", "Percentile")
    header.setdefault("AlgorithmParameters", "Percentile:75;CellMargin:2")
    if format == "text-v3":
        return cel_text.encode_text(rows=data.rows, cols=data.cols, header=header, **common)
    if format == "xda-v4":
        algorithm = header.pop("Algorithm")
        params = header.pop("AlgorithmParameters")
        header_lines = [f"Cols={data.cols}", f"Rows={data.rows}"]
        header_lines += [f"{k}={v}" for k, v in header.items()]
        return cel_xda.encode_xda(
            rows=data.rows,
            cols=data.cols,
            header_text="\n".join(header_lines) + "\n",
            algorithm=algorithm,
            params=params,
            **common,
        )
    return cel_calvin.encode_calvin(
        chip_type=data.chip_type, rows=data.rows, cols=data.cols, **common
    )


def write_cel(
    path: str | os.PathLike[str],
    data: CelData,
    *,
    format: str = "text-v3",
) -> None:
    """Write ``data`` as a CEL file (gzipped when ``path`` ends with ``.gz``).

    Parameters
    ----------
    path
        Output file, written atomically.
    data
        The array to write.
    format
        ``"text-v3"`` (values written as the shortest decimal that reads back
        as the same float64, so the round trip is exact), ``"xda-v4"`` (float32
        intensities/stdev, int16 pixel counts: exact for float32 data) or
        ``"calvin"`` (single-channel Command Console, float32).
    """
    write_output(path, encode_cel(data, format=format), compresslevel=6)
