"""Binary "XDA" CDF files (GCOS 1.2 and later), versions 1 to 4, little-endian.

Layout (Affymetrix CDF file format specification and the Fusion SDK reader):
magic 67, version; from version 4 a GUID string, a 32-byte integrity MD5 and a
list of chip-type strings; cols and rows (uint16), number of probe sets and of
QC sets, a reference sequence string; the probe-set names (64 bytes each);
the file offsets of the QC sets and of the probe sets; then each probe set:
unit type (uint16), direction (uint8), atoms, blocks, cells, unit number
(int32), cells per atom (uint8), and per block: atoms, cells (int32), cells
per atom, direction (uint8), first and last atom (int32), name (64 bytes),
from version 2 wobble situation and allele code (uint16), from version 3
channel and replication type (uint8); then its cells: atom (int32), x, y
(uint16), index position (int32), probe base, target base (char), from
version 2 probe length and grouping (uint16).
"""

from __future__ import annotations

import struct

import numpy as np

from sigrestore.errors import FormatError
from sigrestore.io._source import Buffer
from sigrestore.io.cdf_ascii import cdf_cells
from sigrestore.io.cdf_common import build_cdf
from sigrestore.io.models import CdfData

MAGIC = 67
MAX_VERSION = 4
NAME_LEN = 64
MD5_LEN = 32
_UNIT = struct.Struct("<HBiiiiB")


def _cell_dtype(version: int) -> np.dtype:
    fields = [
        ("atom", "<i4"),
        ("x", "<u2"),
        ("y", "<u2"),
        ("index", "<i4"),
        ("pbase", "u1"),
        ("tbase", "u1"),
    ]
    if version >= 2:
        fields += [("plen", "<u2"), ("group", "<u2")]
    return np.dtype(fields)


def _block_struct(version: int) -> struct.Struct:
    fmt = "<iiBBii64s"
    if version >= 2:
        fmt += "HH"
    if version >= 3:
        fmt += "BB"
    return struct.Struct(fmt)


def _string(buf: Buffer, what: str) -> str:
    return buf.string(what).decode("latin-1")


def chip_from_file_name(name: str) -> str:
    """Versions 1-3 do not store the chip type: like affy, take it from the file name."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if base.lower().endswith(".gz"):
        base = base[:-3]
    return base.split(".", 1)[0]


def _chip_type(buf: Buffer, version: int, name: str, header: dict[str, str]) -> str:
    """The chip type: stored from version 4 on, the file name before (as affy)."""
    if version >= 4:
        header["GUID"] = _string(buf, "GUID")
        header["IntegrityMd5"] = buf.raw(MD5_LEN, "integrity MD5").decode("latin-1")
        n_types = buf.one("B", "chip type count")
        types = [_string(buf, "chip type") for _ in range(n_types)]
        header["ChipTypes"] = ";".join(types)
        plain = [t for t in types if "." not in t]
        return plain[0] if plain else (types[0].split(".")[0] if types else "")
    header["ChipTypeSource"] = "file name"
    return chip_from_file_name(name)


def read_xda_chip_type(data: bytes, name: str) -> str:
    """The chip type of an XDA CDF from the start of its content (the header only)."""
    buf = Buffer(data, name, "<")
    magic, version = buf.unpack("ii", "file header")
    if magic != MAGIC or not 1 <= version <= MAX_VERSION:
        raise FormatError(f"{name}: not a supported XDA CDF (magic {magic}, version {version})")
    return _chip_type(buf, version, name, {})


def read_xda_cdf(data: bytes, name: str) -> CdfData:
    """Parse a binary XDA CDF file held in memory."""
    buf = Buffer(data, name, "<")
    magic, version = buf.unpack("ii", "file header")
    if magic != MAGIC:
        raise FormatError(f"{name}: not an XDA CDF file (magic {magic}, expected 67)")
    if not 1 <= version <= MAX_VERSION:
        raise FormatError(
            f"{name}: XDA CDF version {version} is not supported (supported: 1 to {MAX_VERSION})"
        )
    header: dict[str, str] = {"Version": str(version)}
    chip = _chip_type(buf, version, name, header)
    cols, rows, n_ps, n_qc = buf.unpack("HHii", "file header")
    header["Reference"] = _string(buf, "reference sequence")
    if n_ps < 0 or n_qc < 0:
        raise FormatError(f"{name}: negative probe-set or QC-set count")
    if rows == 0 or cols == 0:
        raise FormatError(f"{name}: invalid array dimensions rows={rows}, cols={cols}")
    raw_names = buf.array(f"S{NAME_LEN}", n_ps, f"probe-set names ({n_ps} x 64 bytes)")
    names = [n.split(b"\x00", 1)[0].decode("latin-1") for n in raw_names.tolist()]
    buf.array("<i4", n_qc, "QC set offsets")
    positions = buf.array("<u4", n_ps, "probe-set offsets").astype(np.int64)
    if (positions >= len(data)).any():
        k = int(np.flatnonzero(positions >= len(data))[0])
        raise FormatError(
            f"{name}: offset of probe set {k + 1} ({names[k]!r}) is {positions[k]}, past the "
            f"end of the file ({len(data)} bytes)"
        )
    cell_dt = _cell_dtype(version)
    block = _block_struct(version)
    pieces: list[np.ndarray] = []
    owner: list[int] = []
    # One iteration per probe set: the records have variable length and are
    # reached through the offset table; the cells themselves are read in bulk.
    for i, pos in enumerate(positions.tolist()):
        buf.seek(pos, f"probe set {i + 1} offset")
        what = f"probe set {i + 1} ({names[i]!r})"
        _type, _dir, _atoms, n_blocks, _cells, _num, _cpa = buf.unpack(
            _UNIT.format[1:], what + " header"
        )
        if n_blocks < 0 or n_blocks > 10_000:
            raise FormatError(f"{name}: {what}: implausible block count {n_blocks}")
        for _ in range(n_blocks):
            fields = block.unpack_from(data, buf.need(block.size, what + " block header"))
            buf.pos += block.size
            n_cells = fields[1]
            cells = buf.array(cell_dt, n_cells, f"{what} cells ({n_cells})")
            pieces.append(cells)
            owner.append(i)
    if pieces:
        all_cells = np.concatenate(pieces)
        counts = np.array([len(p) for p in pieces], dtype=np.int64)
        cell_ps = np.repeat(np.array(owner, dtype=np.int64), counts)
    else:
        all_cells = np.zeros(0, dtype=cell_dt)
        cell_ps = np.zeros(0, dtype=np.int64)
    header.update({"Rows": str(rows), "Cols": str(cols), "NumberOfUnits": str(n_ps)})
    return build_cdf(
        name=name,
        chip_type=chip,
        rows=rows,
        cols=cols,
        probeset_names=names,
        cell_probeset=cell_ps,
        x=all_cells["x"],
        y=all_cells["y"],
        atom=all_cells["atom"],
        pbase=all_cells["pbase"],
        tbase=all_cells["tbase"],
        header=header,
    )


def encode_xda_cdf(cdf: CdfData, *, version: int = 1) -> bytes:
    """Encode ``cdf`` as an XDA CDF file (no QC sets).

    Version 1 is what GCOS wrote for expression arrays; versions 2 to 4 add
    fields (zero here) and, from 4, the chip type in the header.
    """
    if cdf.rows > 65535 or cdf.cols > 65535:
        raise ValueError("XDA CDF stores rows and cols as uint16")
    if not 1 <= version <= MAX_VERSION:
        raise ValueError(f"XDA CDF version must be 1 to {MAX_VERSION}")
    c = cdf_cells(cdf)
    n_ps = cdf.n_probesets
    cell_dt = _cell_dtype(version)
    cells = np.zeros(len(c["x"]), dtype=cell_dt)
    cells["atom"] = c["atom"]
    cells["x"] = c["x"]
    cells["y"] = c["y"]
    cells["index"] = c["atom"]
    cells["pbase"] = c["pbase"]
    cells["tbase"] = c["tbase"]
    head = struct.pack("<ii", MAGIC, version)
    if version >= 4:
        chip = cdf.chip_type.encode("latin-1")
        guid = b"00000000-0000-0000-0000-000000000000"
        head += struct.pack("<i", len(guid)) + guid + b"0" * MD5_LEN
        head += struct.pack("<Bi", 1, len(chip)) + chip
    head += struct.pack("<HHiii", cdf.cols, cdf.rows, n_ps, 0, 0)
    encoded = [n.encode("latin-1") for n in cdf.probeset_names]
    lengths = np.array([len(e) for e in encoded], dtype=np.int64)
    if (lengths > NAME_LEN).any():
        k = int(np.argmax(lengths > NAME_LEN))
        raise ValueError(
            f"probe-set name {cdf.probeset_names[k]!r} is {lengths[k]} bytes long; XDA CDF "
            f"name fields hold {NAME_LEN} bytes ({int((lengths > NAME_LEN).sum())} such names)"
        )
    names = np.array(encoded, dtype=f"S{NAME_LEN}")
    block = _block_struct(version)
    rec_len = _UNIT.size + block.size + c["n_cells"] * cell_dt.itemsize
    first = len(head) + NAME_LEN * n_ps + 4 * n_ps
    positions = first + np.concatenate([[0], np.cumsum(rec_len)[:-1]]).astype(np.int64)
    parts = [head, names.tobytes(), positions.astype("<u4").tobytes()]
    ends = np.cumsum(c["n_cells"])
    extra = (0, 0, 0, 0)[: (2 if version >= 2 else 0) + (2 if version >= 3 else 0)]
    for i in range(n_ps):
        na, nc = int(c["n_atoms"][i]), int(c["n_cells"][i])
        cpa = 2 if na and nc == 2 * na else 1
        # Unit type 1 is "expression" in the binary format (3 in the ASCII one).
        parts.append(_UNIT.pack(1, 1, na, 1, nc, 1000 + i, cpa))
        parts.append(block.pack(na, nc, cpa, 1, 0, max(na - 1, 0), names[i], *extra))
        parts.append(cells[ends[i] - nc : ends[i]].tobytes())
    return b"".join(parts)
