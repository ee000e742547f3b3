"""Reading and writing CDF files, with format detection from the content."""

from __future__ import annotations

import os
import struct

from sigrestore.errors import FormatError
from sigrestore.io import cdf_ascii, cdf_xda, cel_calvin, cel_text, cel_xda
from sigrestore.io._source import (
    CORRUPT_DATA_ERRORS,
    describe_content,
    read_source,
    write_output,
)
from sigrestore.io.cel_common import parse_key_values
from sigrestore.io.models import CdfData

CDF_FORMATS = ("ascii", "xda")


def sniff_cdf(data: bytes, name: str) -> str:
    """``"ascii"`` or ``"xda"`` for the content ``data``."""
    if not data:
        raise FormatError(f"{name}: file is empty")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(cdf_ascii.SIGNATURE):
        return "ascii"
    if len(data) >= 4 and struct.unpack_from("<i", data)[0] == cdf_xda.MAGIC:
        return "xda"
    if cel_calvin.looks_like_calvin(data):
        type_id = cel_calvin.calvin_data_type(data)
        if type_id == cel_calvin.CDF_TYPE:
            raise FormatError(
                f"{name}: Command Console CDF files ({cel_calvin.CDF_TYPE!r}) are not "
                "supported; use the ASCII or XDA CDF of this array type"
            )
        if type_id in (cel_calvin.INTENSITY_TYPE, cel_calvin.MULTI_INTENSITY_TYPE):
            raise FormatError(f"{name}: this is a Command Console CEL (scan) file, not a CDF file")
        what = "with an unreadable header" if type_id is None else f"of data type {type_id!r}"
        raise FormatError(
            f"{name}: this is a Command Console file {what}, not a supported CDF file (tried "
            "ASCII '[CDF]' GC3.0-GC6.0, binary XDA (magic 67))"
        )
    is_xda_cel = len(data) >= 4 and struct.unpack_from("<i", data)[0] == cel_xda.MAGIC
    if data.lstrip().startswith(cel_text.SIGNATURE) or is_xda_cel:
        raise FormatError(f"{name}: this is a CEL (scan) file, not a CDF file")
    short = f"file is truncated ({len(data)} bytes), " if len(data) < 16 else ""
    raise FormatError(
        f"{name}: {short}not a CDF file in any supported format (tried ASCII '[CDF]' GC3.0-GC6.0, "
        f"binary XDA (magic 67)); {describe_content(data)}"
    )


def parse_cdf_bytes(data: bytes, name: str) -> CdfData:
    fmt = sniff_cdf(data, name)
    try:
        if fmt == "ascii":
            return cdf_ascii.read_ascii_cdf(data, name)
        return cdf_xda.read_xda_cdf(data, name)
    except CORRUPT_DATA_ERRORS as exc:
        raise FormatError(f"{name}: corrupt {fmt} CDF file ({type(exc).__name__}: {exc})") from None


def read_cdf(path: str | os.PathLike[str]) -> CdfData:
    """Read a CDF file (ASCII GC3.0+ or binary XDA v1-4, plain or gzipped).

    Returns
    -------
    CdfData
        Probe sets in file order; PM and MM 0-based cell indices in atom order.
        A cell is PM when its probe base is the Watson-Crick complement of the
        target base.

    Raises
    ------
    FormatError
        On any malformed, truncated or unsupported file.
    """
    data, _, _ = read_source(path)
    return parse_cdf_bytes(data, str(path))


def read_cdf_chip_type(path: str | os.PathLike[str]) -> str:
    """The chip type of a CDF file, from its header only (the readers' own rules).

    Gzip is detected from the content (magic bytes), as :func:`read_cdf` does.
    ASCII: the ``[Chip] Name=``; XDA version 4: the stored chip type; XDA
    versions 1-3 (which store none) and an ASCII CDF with an empty name: the
    file name without its suffixes, as affy/makecdfenv take it.

    Raises
    ------
    FormatError
        The file cannot be read or is not a CDF.
    """
    name = str(path)
    data, _, _ = read_source(path, limit=_CHIP_HEAD_BYTES)
    try:
        if sniff_cdf(data, name) == "xda":
            chip = cdf_xda.read_xda_chip_type(data, name)
        else:
            head = data[: data.find(b"\n[Unit")] if b"\n[Unit" in data else data
            chip = parse_key_values(head.decode("latin-1").replace("\r", "").split("\n")).get(
                "Name", ""
            )
    except CORRUPT_DATA_ERRORS as exc:
        raise FormatError(f"{name}: corrupt CDF header ({type(exc).__name__}: {exc})") from None
    return chip.strip() or cdf_xda.chip_from_file_name(name)


#: Enough of a CDF's content for its header (ASCII [CDF]/[Chip] sections, XDA
#: header with its chip-type strings).
_CHIP_HEAD_BYTES = 1 << 16


def encode_cdf(cdf: CdfData, *, format: str = "ascii") -> bytes:
    if format == "ascii":
        return cdf_ascii.encode_ascii_cdf(cdf)
    if format == "xda":
        return cdf_xda.encode_xda_cdf(cdf)
    raise ValueError(f"unknown CDF format {format!r}; use one of {', '.join(CDF_FORMATS)}")


def write_cdf(
    path: str | os.PathLike[str],
    cdf: CdfData,
    *,
    format: str = "ascii",
) -> None:
    """Write ``cdf`` as an ASCII GC3.0 (default) or XDA version 1 CDF file.

    PM and MM probes are paired by atom; the probe bases are set so that
    readers (this package, makecdfenv) classify each cell as it is in ``cdf``.
    Written atomically; gzipped when ``path`` ends with ``.gz``.
    """
    write_output(path, encode_cdf(cdf, format=format))
