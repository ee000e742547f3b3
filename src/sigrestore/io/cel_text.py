"""Text CEL files, version 3 (MAS 5), with CRLF or LF line ends.

Sections ``[CEL]`` (``Version=3``), ``[HEADER]`` (``key=value``), ``[INTENSITY]``
(``NumberCells``, ``CellHeader=X Y MEAN STDV NPIXELS``, then one tab-separated
line per cell), ``[MASKS]`` and ``[OUTLIERS]`` (``X Y`` lines) and
``[MODIFIED]``.  The cell block is parsed in bulk, straight from the file's
bytes, by Arrow's multi-threaded CSV reader (its float parser is correctly
rounded, like R's ``strtod``); anything it does not accept exactly as a
five-column tab-separated block goes to numpy's whitespace-splitting text
parser, and only when that fails too do we walk the lines in Python to name
the bad one.  So unusual but valid files read as before, and every error
message comes from the same code as before.
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from sigrestore.errors import FormatError
from sigrestore.io._source import NeedMoreBytes, line_number
from sigrestore.io.cel_common import chip_type_from_dat_header, parse_key_values

SIGNATURE = b"[CEL]"


def _line_end(data: bytes, pos: int) -> int:
    """Offset just past the line starting at ``pos``."""
    nl = data.find(b"\n", pos)
    return len(data) if nl < 0 else nl + 1


def _header(data: bytes, name: str, *, complete: bool) -> tuple[dict, int]:
    """Parse ``[CEL]`` and ``[HEADER]``; return the fields and the ``[INTENSITY]`` offset."""
    start = data.find(SIGNATURE)
    at = data.find(b"[INTENSITY]", start)
    if at < 0:
        if not complete:
            raise NeedMoreBytes
        raise FormatError(f"{name}: file is truncated in the header: no [INTENSITY] section")
    lines = data[start:at].decode("latin-1").replace("\r", "").split("\n")
    header = parse_key_values(lines)
    version = header.get("Version", "").strip()
    if version != "3":
        raise FormatError(
            f"{name}: text CEL version {version or '(missing)'} is not supported (only version 3)"
        )
    try:
        cols = int(header["Cols"])
        rows = int(header["Rows"])
    except (KeyError, ValueError):
        raise FormatError(f"{name}: [HEADER] lacks integer Cols= and Rows= lines") from None
    if rows <= 0 or cols <= 0:
        raise FormatError(f"{name}: invalid array dimensions Rows={rows}, Cols={cols}")
    chip = chip_type_from_dat_header(header, name)
    fields = {"format": "text-v3", "chip_type": chip, "rows": rows, "cols": cols}
    fields["header"] = header
    return fields, at


def text_header_fields(data: bytes, name: str, *, complete: bool) -> dict:
    return _header(data, name, complete=complete)[0]


def _section_count(data: bytes, pos: int, section: str, name: str) -> tuple[int, int]:
    """Read ``NumberCells=`` and ``CellHeader=`` after a section line.

    Returns the count and the offset of the first data line.
    """
    pos = _line_end(data, pos)
    count = None
    for _ in range(4):
        line_start = pos
        if pos >= len(data):
            break
        pos = _line_end(data, pos)
        line = data[line_start:pos].strip()
        if line.startswith(b"NumberCells="):
            try:
                count = int(line[len(b"NumberCells=") :])
            except ValueError:
                raise FormatError(
                    f"{name}: line {line_number(data, line_start)}: malformed {line[:40]!r} "
                    f"in [{section}]"
                ) from None
        elif line.startswith(b"CellHeader="):
            if count is None:
                break
            if count < 0:
                raise FormatError(f"{name}: [{section}] NumberCells={count} is negative")
            return count, pos
    raise FormatError(
        f"{name}: file is truncated or malformed in [{section}]: "
        "expected NumberCells= and CellHeader= lines"
    )


def _block_lines(data: bytes, start: int, count: int, section: str, name: str) -> int:
    """Offset just past the ``count`` data lines starting at ``start``.

    A block runs to the next ``[section]`` line (or the end of the file) less
    its trailing empty lines, and must hold exactly ``count`` lines.
    """
    # The next line starting with "[" (memchr-fast single-byte search; a "["
    # inside a line is skipped).
    nxt = data.find(b"[", start)
    for _ in range(1000):
        if nxt <= 0 or data[nxt - 1] == 10:
            break
        nxt = data.find(b"[", nxt + 1)
    else:
        nxt = data.find(b"\n[", nxt) + 1  # many stray "[": the plain search
    nxt = nxt - 1 if nxt > 0 else -1
    stop = len(data) if nxt < 0 else nxt + 1
    end = stop
    while end > start and data[end - 1] in b"\r\n \t":
        end -= 1
    have = 0 if end == start else data.count(b"\n", start, end) + 1
    if have == count:
        nl = data.find(b"\n", end, stop)
        return stop if nl < 0 else nl + 1
    first = line_number(data, start)
    if have > count:
        blank = min(
            (
                p
                for p in (data.find(b"\n\n", start, end), data.find(b"\n\r\n", start, end))
                if p >= 0
            ),
            default=-1,
        )
        if blank >= 0:
            line = line_number(data, blank) + 1
            raise FormatError(
                f"{name}: line {line}: empty line inside [{section}] after "
                f"{line - first} of {count} cell lines (a missing or truncated cell line)"
            )
        raise FormatError(
            f"{name}: line {first + count}: [{section}] has {have} cell lines, "
            f"but NumberCells={count}"
        )
    if nxt < 0:
        raise FormatError(
            f"{name}: file is truncated in [{section}]: expected {count} cell lines, only "
            f"{have} available"
        )
    raise FormatError(
        f"{name}: line {first + have}: [{section}] ends after {have} of {count} cell lines "
        "(missing cell lines)"
    )


def _diagnose(data: bytes, start: int, end: int, kinds: str, section: str, name: str) -> None:
    """Walk the lines of a block that failed bulk parsing and raise naming the bad one."""
    first_line = line_number(data, start)
    lines = data[start:end].split(b"\n")
    if lines and not lines[-1].strip():
        lines.pop()
    for k, raw in enumerate(lines):
        parts = raw.split()
        line_no = first_line + k
        if len(parts) != len(kinds):
            raise FormatError(
                f"{name}: line {line_no}: expected {len(kinds)} fields in [{section}], found "
                f"{len(parts)} ({raw.strip()[:60]!r}): short, malformed or truncated cell line"
            )
        for part, kind in zip(parts, kinds, strict=True):
            shown = part[:20].decode("latin-1")
            try:
                value = int(part) if kind == "i" else float(part)
            except ValueError:
                what = "integer" if kind == "i" else "number"
                raise FormatError(
                    f"{name}: line {line_no}: malformed {what} {shown!r} in [{section}]"
                ) from None
            if kind == "i" and not -(2**31) <= value < 2**31:
                raise FormatError(
                    f"{name}: line {line_no}: integer {shown!r} out of range in [{section}]"
                )
    raise FormatError(f"{name}: malformed [{section}] block (lines {first_line}ff.)")


def _row_dtype(kinds: str) -> np.dtype:
    """Record dtype of a block's lines: ``"i"`` columns int32, ``"f"`` columns float64."""
    return np.dtype([(f"c{k}", "<i4" if t == "i" else "<f8") for k, t in enumerate(kinds)])


def _parse_block(
    data: bytes, start: int, end: int, n_rows: int, kinds: str, section: str, name: str
) -> np.ndarray:
    """Parse ``n_rows`` whitespace-separated lines; ``kinds`` gives each column's type.

    Integers (``"i"``) are parsed as such (faster, and "2.5" is not a cell
    coordinate); floats (``"f"``) with a correctly rounded parser, so
    "11263.3" reads as the same float64 as in R.
    """
    dtype = _row_dtype(kinds)
    if n_rows == 0:
        return np.zeros(0, dtype=dtype)
    try:
        table = np.loadtxt(
            io.BytesIO(data[start:end]), dtype=dtype, comments=None, ndmin=1, encoding=None
        )
    except (ValueError, OverflowError):
        table = None
    if table is None or table.shape != (n_rows,):
        _diagnose(data, start, end, kinds, section, name)
    return table


# Arrow column types of a block's "i" / "f" columns.
_ARROW_TYPES = {"i": pa.int32(), "f": pa.float64()}


def _parse_cells_arrow(
    data: bytes, start: int, end: int, n_rows: int, kinds: str, n_used: int | None = None
) -> dict[str, np.ndarray] | None:
    """Parse the cell block ``data[start:end]`` with Arrow's CSV reader (no copy).

    Only a block of exactly ``n_rows`` tab-separated lines of ``len(kinds)``
    plain fields is accepted: no quoting, no empty lines, no null markers, no
    lone CR.  Anything else (spaces as separators, padding, a bad field)
    returns None and the caller falls back to the numpy parser, which accepts
    or rejects the block exactly as before.  With ``n_used`` only the first
    ``n_used`` columns are converted (the others are still tokenized, so every
    line must still have ``len(kinds)`` fields): converting the floats is most
    of the parse.
    """
    if n_rows == 0:
        return None
    if data.find(b"\r", start, end) >= 0 and data.count(b"\r", start, end) != data.count(
        b"\r\n", start, end
    ):
        return None  # a lone CR would end a line for Arrow but not in the line count
    names = [f"c{k}" for k in range(len(kinds))]
    buf = pa.py_buffer(data).slice(start, end - start)
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(buf),
            read_options=pa_csv.ReadOptions(
                # One thread: the parallelism is across files (run_rma's n_jobs).
                column_names=names,
                block_size=4 << 20,
                use_threads=False,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter="\t", quote_char=False, double_quote=False, ignore_empty_lines=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: _ARROW_TYPES[t] for c, t in zip(names, kinds, strict=True)},
                include_columns=names[:n_used] if n_used is not None else None,
                null_values=[],
                true_values=[],
                false_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, OverflowError):
        return None
    if table.num_rows != n_rows or any(col.null_count for col in table.columns):
        return None
    out = {c: table.column(c).to_numpy() for c in table.column_names}
    # A single-chunk column may come back as a read-only view of Arrow memory.
    return {c: v if v.flags.writeable else v.copy() for c, v in out.items()}


def _columns(table: np.ndarray) -> dict[str, np.ndarray]:
    """The columns of a structured block table, by name."""
    return {c: table[c] for c in table.dtype.names}


def _xy_check(
    table: dict[str, np.ndarray] | np.ndarray,
    rows: int,
    cols: int,
    data: bytes,
    start: int,
    section: str,
    name: str,
) -> np.ndarray:
    """Check the x/y columns are inside the array; return the 0-based cell indices."""
    x, y = table["c0"].astype(np.int64), table["c1"].astype(np.int64)
    bad = (x < 0) | (y < 0) | (x >= cols) | (y >= rows)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        line = line_number(data, start) + k
        raise FormatError(
            f"{name}: line {line}: cell x={x[k]}, y={y[k]} in [{section}] is outside the "
            f"{cols} x {rows} array ({int(bad.sum())} such lines)"
        )
    return y * cols + x


def read_text(data: bytes, name: str, *, intensities_only: bool = False) -> dict:
    """Parse a whole text v3 CEL file into the fields of CelData.

    With ``intensities_only`` only the cell coordinates and mean intensities
    are converted (RMA's input, as affyio's ``intensity.means.only``): the
    result has no ``stdev``, ``npixels``, ``masks_xy`` or ``outliers_xy``.
    The lines must still have their five fields and every cell must be listed
    once.
    """
    out, at = _header(data, name, complete=True)
    rows, cols = out["rows"], out["cols"]
    n = rows * cols
    count, start = _section_count(data, at, "INTENSITY", name)
    if count != n:
        raise FormatError(
            f"{name}: [INTENSITY] NumberCells={count}, but Rows*Cols = {rows}*{cols} = {n}"
        )
    end = _block_lines(data, start, count, "INTENSITY", name)
    table = _parse_cells_arrow(data, start, end, count, "iiffi", 3 if intensities_only else None)
    if table is None:  # spaces as separators, padding, a bad line: numpy names the line
        table = _columns(_parse_block(data, start, end, count, "iiffi", "INTENSITY", name))
    idx = _xy_check(table, rows, cols, data, start, "INTENSITY", name)
    if not np.array_equal(idx, np.arange(n)):
        seen = np.bincount(idx, minlength=n)
        if (seen != 1).any():
            dup = int(np.flatnonzero(seen > 1)[0])
            k = int(np.flatnonzero(idx == dup)[1])
            raise FormatError(
                f"{name}: line {line_number(data, start) + k}: cell x={dup % cols}, "
                f"y={dup // cols} appears more than once in [INTENSITY]"
            )
        # cells listed out of order: put them in place
        in_place = np.argsort(idx)
        table = {c: v[in_place] for c, v in table.items()}
    out["intensity"] = np.ascontiguousarray(table["c2"])
    if intensities_only:
        return out
    out["stdev"] = np.ascontiguousarray(table["c3"])
    out["npixels"] = np.ascontiguousarray(table["c4"])
    for section, key in (("MASKS", "masks_xy"), ("OUTLIERS", "outliers_xy")):
        pos = data.find(f"\n[{section}]".encode(), end - 1)
        if pos < 0:
            out[key] = np.zeros((0, 2), dtype=np.int64)
            continue
        k, s = _section_count(data, pos + 1, section, name)
        e = _block_lines(data, s, k, section, name)
        tab = _parse_block(data, s, e, k, "ii", section, name)
        _xy_check(tab, rows, cols, data, s, section, name)
        out[key] = np.column_stack([tab["c0"], tab["c1"]]).astype(np.int64)
    return out


def _fmt(values: np.ndarray) -> np.ndarray:
    """Shortest decimal strings (as bytes) that read back as the same float64.

    numpy's float-to-string cast gives the shortest round-trip representation,
    the same text as Python's ``repr`` (at most 24 characters, so 32 bytes
    never truncate), but it is the writer's bottleneck.  Values that are
    exactly the double nearest to a one-decimal number (MAS5 text CEL values
    such as ``11263.3``) take a fast integer path: for ``0 <= v < 1e12`` only
    one one-decimal number maps to each double, and its ``"%.1f"`` text is then
    the shortest representation (``repr`` keeps the ``.0`` of whole numbers).
    The tests check both paths against ``repr``.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    with np.errstate(invalid="ignore", over="ignore"):
        tenths = np.rint(v * 10)
        fast = (v >= 0) & (v < 1e12) & ~np.signbit(v) & (tenths / 10 == v)
    out = np.zeros(len(v), dtype="S32")
    if not fast.all():
        out[~fast] = v[~fast].astype("S32")
    if fast.any():
        k = tenths[fast].astype(np.int64)
        whole = (k // 10).astype("S21")
        at = np.strings.str_len(whole)
        m = len(k)
        buf = np.zeros((m, 32), dtype=np.uint8)
        buf[:, :21] = whole.view(np.uint8).reshape(m, 21)
        rows = np.arange(m)
        buf[rows, at] = ord(".")
        buf[rows, at + 1] = ord("0") + k % 10
        out[fast] = buf.view("S32").reshape(m)
    return out


def _ints(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).astype("S21")


# Rows per pass of the byte assembly: bounds the index arrays to a few MB.
_CHUNK = 1 << 16


def _join_rows(columns: list[np.ndarray]) -> bytes:
    """Tab-separated, LF-terminated lines from byte-string columns, vectorized.

    Each column is a fixed-width ``S`` array; its bytes are scattered into one
    output buffer at offsets computed from the string lengths, so no Python
    code runs per line.
    """
    n = len(columns[0])
    if n == 0:
        return b""
    out = []
    for lo in range(0, n, _CHUNK):
        cols = [c[lo : lo + _CHUNK] for c in columns]
        m = len(cols[0])
        lens = [np.strings.str_len(c).astype(np.int64) for c in cols]
        line_len = np.sum(lens, axis=0) + len(cols)  # the fields, tabs and LF
        ends = np.cumsum(line_len)
        buf = np.full(int(ends[-1]), ord("\t"), dtype=np.uint8)
        buf[ends - 1] = ord("\n")
        pos = ends - line_len
        for c, length in zip(cols, lens, strict=True):
            # Only the used width of the fixed-width strings (x, y: 3 of 21 bytes).
            width = int(length.max())
            inside = np.arange(width) < length[:, None]
            dest = (pos[:, None] + np.arange(width))[inside]
            buf[dest] = c.view(np.uint8).reshape(m, c.dtype.itemsize)[:, :width][inside]
            pos += length + 1
        out.append(buf.tobytes())
    return b"".join(out)


def encode_text(
    *,
    rows: int,
    cols: int,
    header: dict[str, str],
    intensity: np.ndarray,
    stdev: np.ndarray,
    npixels: np.ndarray,
    masks_xy: np.ndarray,
    outliers_xy: np.ndarray,
) -> bytes:
    """Encode one array as a text v3 CEL file (LF line ends)."""
    n = rows * cols
    # The vendor's header lines, in the vendor's order: affyio looks for each
    # of them in turn and fails on a file that lacks one.
    standard = {
        "Cols": str(cols),
        "Rows": str(rows),
        "TotalX": str(cols),
        "TotalY": str(rows),
        "OffsetX": "0",
        "OffsetY": "0",
        "GridCornerUL": "0 0",
        "GridCornerUR": f"{cols} 0",
        "GridCornerLR": f"{cols} {rows}",
        "GridCornerLL": f"0 {rows}",
        "Axis-invertX": "0",
        "AxisInvertY": "0",
        "swapXY": "0",
        "DatHeader": "",
        "Algorithm": "Percentile",
        "AlgorithmParameters": "Percentile:75;CellMargin:2;OutlierHigh:1.500;OutlierLow:1.004",
    }
    lines = ["[CEL]", "Version=3", "", "[HEADER]"]
    for key, default in standard.items():
        value = header.get(key, default) if key not in ("Cols", "Rows") else default
        lines.append(f"{key}={value}")
    for key, value in header.items():
        if key not in standard and key != "Version" and "\n" not in value and "=" not in key:
            lines.append(f"{key}={value}")
    lines += ["", "[INTENSITY]", f"NumberCells={n}", "CellHeader=X\tY\tMEAN\tSTDV\tNPIXELS"]
    # x and y of every cell, in cell-index order (rows of cols cells).
    x = np.tile(_ints(np.arange(cols)), rows)
    y = np.repeat(_ints(np.arange(rows)), cols)
    cells = _join_rows([x, y, _fmt(intensity), _fmt(stdev), _ints(npixels)])
    tail = b""
    for section, xy in (("MASKS", masks_xy), ("OUTLIERS", outliers_xy)):
        xy = np.asarray(xy, dtype=np.int64).reshape(-1, 2)
        tail += f"\n[{section}]\nNumberCells={len(xy)}\nCellHeader=X\tY\n".encode("latin-1")
        tail += _join_rows([_ints(xy[:, 0]), _ints(xy[:, 1])])
    tail += b"\n[MODIFIED]\nNumberCells=0\nCellHeader=X\tY\tORIGMEAN\n\n"
    return ("\n".join(lines) + "\n").encode("latin-1") + cells + tail
