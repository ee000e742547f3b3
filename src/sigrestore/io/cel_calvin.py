"""Command Console ("Calvin", AGCC) generic-format CEL files.

Layout (big-endian throughout, Affymetrix "Command Console Generic Data File"
specification): a file header (magic 59, version 1, number of data groups,
offset of the first group), a generic data header (data type id, file id,
creation time, locale, typed name/value parameters, then the parents'
headers, recursively), then data groups holding data sets.  A CEL file has one
group with the data sets ``Intensity`` (float or unsigned short), ``StdDev``,
``Pixel``, ``Outlier`` and ``Mask`` (the last two as X, Y short columns).
"""

from __future__ import annotations

import hashlib
import struct
import uuid

import numpy as np

from sigrestore.errors import FormatError
from sigrestore.io._source import Buffer
from sigrestore.io.cel_common import check_int16

MAGIC = 59
VERSION = 1
INTENSITY_TYPE = "affymetrix-calvin-intensity"
MULTI_INTENSITY_TYPE = "affymetrix-calvin-multi-intensity"
CDF_TYPE = "affymetrix-calvin-cdf"
# Magic, version, number of data groups, offset of the first group.
FILE_HEADER_LEN = 10

# Column type codes of the generic format -> numpy dtype (big-endian).
_COLUMN_DTYPES = {
    0: ">i1",
    1: ">u1",
    2: ">i2",
    3: ">u2",
    4: ">i4",
    5: ">u4",
    6: ">f4",
}
_COLUMN_TYPE_NAMES = {7: "string", 8: "wide string"}

# Parents can nest; a corrupt count must not make us recurse forever.
_MAX_PARENT_DEPTH = 32


def _string(buf: Buffer, what: str) -> str:
    return buf.string(what).split(b"\x00", 1)[0].decode("latin-1")


def _wstring(buf: Buffer, what: str) -> str:
    raw = buf.string(what, char_size=2)
    return raw.decode("utf-16-be", errors="replace").split("\x00", 1)[0]


def _param_value(raw: bytes, mime: str) -> str:
    """Decode one typed parameter value to its string form."""
    if mime == "text/plain":
        return raw.decode("utf-16-be", errors="replace").split("\x00", 1)[0]
    if mime == "text/ascii":
        return raw.split(b"\x00", 1)[0].decode("latin-1")
    if mime == "text/x-calvin-float" and len(raw) >= 4:
        return repr(struct.unpack_from(">f", raw)[0])
    if mime.startswith("text/x-calvin-integer") and len(raw) >= 4:
        return str(struct.unpack_from(">i", raw)[0])
    if mime.startswith("text/x-calvin-unsigned-integer") and len(raw) >= 4:
        return str(struct.unpack_from(">I", raw)[0])
    return raw.hex()


def _params(buf: Buffer, what: str, out: dict[str, str]) -> None:
    n = buf.one("i", f"{what} parameter count")
    if n < 0 or (buf.complete and n * 12 > len(buf.data)):
        raise FormatError(f"{buf.name}: {what}: implausible parameter count {n}")
    for k in range(n):
        name = _wstring(buf, f"{what} parameter {k + 1} name")
        raw = buf.string(f"{what} parameter {name!r} value")
        mime = _wstring(buf, f"{what} parameter {name!r} type")
        out.setdefault(name, _param_value(raw, mime))


def _generic_header(buf: Buffer, depth: int, out: dict[str, str]) -> str:
    """Read one generic data header (and its parents); return its data type id."""
    if depth > _MAX_PARENT_DEPTH:
        raise FormatError(f"{buf.name}: parent headers nested deeper than {_MAX_PARENT_DEPTH}")
    what = "file header" if depth == 0 else f"parent header (depth {depth})"
    type_id = _string(buf, f"{what} data type id")
    _string(buf, f"{what} file id")
    created = _wstring(buf, f"{what} creation time")
    locale = _wstring(buf, f"{what} locale")
    params: dict[str, str] = {}
    _params(buf, what, params)
    if depth == 0:
        out["data-type-id"] = type_id
        out["creation-time"] = created
        out["locale"] = locale
        out.update(params)
    n_parents = buf.one("i", f"{what} parent count")
    if n_parents < 0 or (buf.complete and n_parents * 20 > len(buf.data)):
        raise FormatError(f"{buf.name}: {what}: implausible parent count {n_parents}")
    for _ in range(n_parents):
        _generic_header(buf, depth + 1, {})
    return type_id


def looks_like_calvin(data: bytes) -> bool:
    """Whether ``data`` starts like a Command Console file, of any version.

    The magic byte 59 is ";", so a text file could start with it too: a
    version byte that is a printable character or a line/tab character means
    text, not Command Console.
    """
    if not data or data[0] != MAGIC:
        return False
    if len(data) >= 2 and data[1] == VERSION:
        return True  # even when truncated: the reader then says where
    return len(data) >= FILE_HEADER_LEN and data[1] < 0x20 and data[1] not in b"\t\n\r"


def calvin_data_type(data: bytes) -> str | None:
    """The data type id of a Command Console file (None when it cannot be read)."""
    if len(data) < FILE_HEADER_LEN + 4:
        return None
    (n,) = struct.unpack_from(">i", data, FILE_HEADER_LEN)
    start = FILE_HEADER_LEN + 4
    if n < 0 or n > 1024 or start + n > len(data):
        return None
    return data[start : start + n].split(b"\x00", 1)[0].decode("latin-1")


def read_calvin_header(buf: Buffer) -> tuple[dict[str, str], int, int]:
    """Parse the file and generic headers.

    Returns the header fields, the number of data groups and the offset of the
    first data group.  Raises for multi-channel or non-intensity files.
    """
    magic, version, n_groups, first_group = buf.unpack("BBiI", "file header")
    if magic != MAGIC:
        raise FormatError(f"{buf.name}: not a Command Console file (magic {magic}, expected 59)")
    if version != VERSION:
        raise FormatError(
            f"{buf.name}: Command Console version {version} is not supported (only version "
            f"{VERSION})"
        )
    header: dict[str, str] = {}
    type_id = _generic_header(buf, 0, header)
    if type_id == MULTI_INTENSITY_TYPE:
        raise FormatError(
            f"{buf.name}: multi-channel Command Console CEL files ({MULTI_INTENSITY_TYPE!r}) "
            "are not supported"
        )
    if type_id == CDF_TYPE:
        raise FormatError(
            f"{buf.name}: this is a Command Console CDF (array layout) file "
            f"({CDF_TYPE!r}), not a CEL file"
        )
    if type_id != INTENSITY_TYPE:
        raise FormatError(
            f"{buf.name}: Command Console data type {type_id!r} is not supported "
            f"(only {INTENSITY_TYPE!r} CEL files)"
        )
    return header, n_groups, first_group


def _fields(header: dict[str, str], name: str) -> dict:
    """The CelData header fields (format, chip type, dimensions, header) of a CEL file."""
    try:
        rows = int(header["affymetrix-cel-rows"])
        cols = int(header["affymetrix-cel-cols"])
    except (KeyError, ValueError):
        raise FormatError(
            f"{name}: Command Console header lacks integer affymetrix-cel-rows/-cols"
        ) from None
    chip = header.get("affymetrix-array-type", "")
    if not chip:
        raise FormatError(f"{name}: Command Console header lacks affymetrix-array-type")
    if rows <= 0 or cols <= 0:
        raise FormatError(f"{name}: invalid array dimensions rows={rows}, cols={cols}")
    return {"format": "calvin", "chip_type": chip, "rows": rows, "cols": cols, "header": header}


def calvin_header_fields(buf: Buffer) -> dict:
    header, _, _ = read_calvin_header(buf)
    return _fields(header, buf.name)


def _data_set(buf: Buffer) -> tuple[str, list[tuple[str, int, int]], int, int, int]:
    """Read a data set header; return name, columns, row count, data offset, next offset."""
    first_elem, next_set = buf.unpack("II", "data set header")
    name = _wstring(buf, "data set name")
    _params(buf, f"data set {name!r}", {})
    n_cols = buf.one("I", f"data set {name!r} column count")
    if n_cols > 1000:
        raise FormatError(f"{buf.name}: data set {name!r}: implausible column count {n_cols}")
    cols = []
    for _ in range(n_cols):
        cname = _wstring(buf, f"data set {name!r} column name")
        ctype, csize = buf.unpack("bi", f"data set {name!r} column type")
        cols.append((cname, ctype, csize))
    n_rows = buf.one("I", f"data set {name!r} row count")
    return name, cols, n_rows, first_elem, next_set


def _column_dtype(buf: Buffer, set_name: str, cols: list[tuple[str, int, int]]) -> np.dtype:
    fields = []
    for cname, ctype, csize in cols:
        if ctype not in _COLUMN_DTYPES:
            kind = _COLUMN_TYPE_NAMES.get(ctype, f"type code {ctype}")
            raise FormatError(
                f"{buf.name}: data set {set_name!r} column {cname!r} is a {kind}; "
                "not supported for CEL data"
            )
        dt = np.dtype(_COLUMN_DTYPES[ctype])
        if csize != dt.itemsize:
            raise FormatError(
                f"{buf.name}: data set {set_name!r} column {cname!r}: size {csize} does not "
                f"match its type ({dt.itemsize} bytes)"
            )
        fields.append((cname or f"c{len(fields)}", dt))
    if len({f[0] for f in fields}) != len(fields):
        fields = [(f"c{i}", dt) for i, (_, dt) in enumerate(fields)]
    return np.dtype(fields)


def read_calvin(buf: Buffer) -> dict:
    """Parse a whole Command Console CEL file into the fields of CelData."""
    header, n_groups, first_group = read_calvin_header(buf)
    out = _fields(header, buf.name)
    rows, cols = out["rows"], out["cols"]
    if n_groups < 1:
        raise FormatError(f"{buf.name}: Command Console file has no data group")
    if n_groups > 1:
        raise FormatError(
            f"{buf.name}: Command Console file with {n_groups} data groups (several channels) "
            "is not supported"
        )
    buf.seek(first_group, "first data group offset")
    _next_group, first_set, n_sets = buf.unpack("IIi", "data group header")
    _wstring(buf, "data group name")
    if n_sets < 0 or n_sets > 1000:
        raise FormatError(f"{buf.name}: implausible data set count {n_sets}")
    sets: dict[str, np.ndarray] = {}
    pos = first_set
    for k in range(n_sets):
        buf.seek(pos, f"data set {k + 1} offset")
        name, columns, n_rows, first_elem, next_set = _data_set(buf)
        dtype = _column_dtype(buf, name, columns)
        buf.seek(first_elem, f"data set {name!r} data offset")
        sets[name] = buf.array(dtype, n_rows, f"data set {name!r} ({n_rows} rows)")
        pos = next_set
    n = rows * cols
    for key, set_name in (("intensity", "Intensity"), ("stdev", "StdDev"), ("npixels", "Pixel")):
        if set_name not in sets:
            raise FormatError(f"{buf.name}: Command Console CEL file has no {set_name!r} data set")
        arr = sets[set_name]
        if len(arr.dtype.fields) != 1:
            raise FormatError(f"{buf.name}: data set {set_name!r} must have one column")
        if arr.shape[0] != n:
            raise FormatError(
                f"{buf.name}: data set {set_name!r} has {arr.shape[0]} cells, expected "
                f"rows*cols = {rows}*{cols} = {n}"
            )
        out[key] = arr[arr.dtype.names[0]]
    for key, set_name in (("outliers", "Outlier"), ("masks", "Mask")):
        arr = sets.get(set_name)
        if arr is None or arr.shape[0] == 0:
            out[key + "_xy"] = np.zeros((0, 2), dtype=np.int64)
            continue
        if len(arr.dtype.names) != 2:
            raise FormatError(f"{buf.name}: data set {set_name!r} must have X and Y columns")
        a, b = arr.dtype.names
        out[key + "_xy"] = np.column_stack([arr[a].astype(np.int64), arr[b].astype(np.int64)])
    return out


# ----------------------------------------------------------------------- writing
def _w_string(s: str) -> bytes:
    raw = s.encode("latin-1")
    return struct.pack(">i", len(raw)) + raw


def _w_wstring(s: str) -> bytes:
    raw = s.encode("utf-16-be")
    return struct.pack(">i", len(raw) // 2) + raw


def _w_param(name: str, value: str | int | float, *, ascii: bool = False) -> bytes:
    # Numbers are stored in 16-byte slots, as vendor files do.
    if isinstance(value, int):
        raw = struct.pack(">i", value) + b"\x00" * 12
        mime = "text/x-calvin-integer-32"
    elif isinstance(value, float):
        raw = struct.pack(">f", value) + b"\x00" * 12
        mime = "text/x-calvin-float"
    elif ascii:
        raw = value.encode("latin-1")
        mime = "text/ascii"
    else:
        raw = value.encode("utf-16-be")
        mime = "text/plain"
    return _w_wstring(name) + struct.pack(">i", len(raw)) + raw + _w_wstring(mime)


def encode_calvin(
    *,
    chip_type: str,
    rows: int,
    cols: int,
    intensity: np.ndarray,
    stdev: np.ndarray,
    npixels: np.ndarray,
    masks_xy: np.ndarray,
    outliers_xy: np.ndarray,
    intensity_dtype: str = ">f4",
    data_type_id: str = INTENSITY_TYPE,
) -> bytes:
    """Encode one array as a single-channel Command Console CEL file.

    The file id is derived from the content, so equal data give equal bytes.
    """
    check_int16(npixels=npixels, masks_xy=masks_xy, outliers_xy=outliers_xy)
    digest = hashlib.sha1(np.ascontiguousarray(intensity, dtype=">f4").tobytes())
    digest.update(f"{chip_type}:{rows}:{cols}".encode())
    file_id = str(uuid.UUID(bytes=digest.digest()[:16], version=5))
    # affyio's header reader dereferences the grid-corner and algorithm
    # parameters without checking they exist, so they are always written.
    params = [
        _w_param("affymetrix-algorithm-param-Percentile", "75", ascii=True),
        _w_param("affymetrix-algorithm-param-CellMargin", "2", ascii=True),
        _w_param("affymetrix-algorithm-param-OutlierHigh", "1.500", ascii=True),
        _w_param("affymetrix-algorithm-param-OutlierLow", "1.004", ascii=True),
    ]
    corners = {"UL": (0, 0), "UR": (cols, 0), "LR": (cols, rows), "LL": (0, rows)}
    for corner, (cx, cy) in corners.items():
        params.append(_w_param(f"affymetrix-algorithm-param-Grid{corner}X", float(cx)))
        params.append(_w_param(f"affymetrix-algorithm-param-Grid{corner}Y", float(cy)))
    params += [
        _w_param("affymetrix-algorithm-name", "Percentile"),
        _w_param("affymetrix-array-type", chip_type),
        _w_param("affymetrix-cel-cols", int(cols)),
        _w_param("affymetrix-cel-rows", int(rows)),
    ]
    gen = (
        _w_string(data_type_id)
        + _w_string(file_id)
        + _w_wstring("")
        + _w_wstring("en-US")
        + struct.pack(">i", len(params))
        + b"".join(params)
        + struct.pack(">i", 0)
    )
    code_of = {v: k for k, v in _COLUMN_DTYPES.items()}
    sets = [
        ("Intensity", [("Intensity", intensity_dtype)], [intensity]),
        ("StdDev", [("StdDev", ">f4")], [stdev]),
        ("Pixel", [("Pixel", ">i2")], [npixels]),
        ("Outlier", [("X", ">i2"), ("Y", ">i2")], [outliers_xy[:, 0], outliers_xy[:, 1]]),
        ("Mask", [("X", ">i2"), ("Y", ">i2")], [masks_xy[:, 0], masks_xy[:, 1]]),
    ]
    group_name = _w_wstring("")
    group_start = FILE_HEADER_LEN + len(gen)
    pos = group_start + 12 + len(group_name)
    first_set = pos
    blobs = []
    for set_name, columns, values in sets:
        dtype = np.dtype([(c, d) for c, d in columns])
        n_rows = len(values[0])
        table = np.empty(n_rows, dtype=dtype)
        for (c, _), v in zip(columns, values, strict=True):
            table[c] = v
        meta = (
            _w_wstring(set_name)
            + struct.pack(">i", 0)
            + struct.pack(">I", len(columns))
            + b"".join(
                _w_wstring(c) + struct.pack(">bi", code_of[d], np.dtype(d).itemsize)
                for c, d in columns
            )
            + struct.pack(">I", n_rows)
        )
        first_elem = pos + 8 + len(meta)
        next_set = first_elem + table.nbytes
        blobs.append(struct.pack(">II", first_elem, next_set) + meta + table.tobytes())
        pos = next_set
    # The next-group offset of the last group is the end of the file.
    group = struct.pack(">IIi", pos, first_set, len(sets)) + group_name
    file_header = struct.pack(">BBiI", MAGIC, VERSION, 1, group_start)
    return file_header + gen + group + b"".join(blobs)
