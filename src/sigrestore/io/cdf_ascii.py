"""ASCII CDF files (``[CDF] Version=GC3.0`` and later), read and written.

A file has a ``[CDF]`` and a ``[Chip]`` section (``Name``, ``Rows``, ``Cols``,
``NumberOfUnits``, ``NumQCUnits``), the QC units ``[QCn]`` (not probe sets),
then one ``[Unit<n>]`` section per probe set with ``[Unit<n>_Block<k>]``
sections whose ``Cell<i>=`` lines list the probes, tab-separated, in the
columns named by ``CellHeader`` (X, Y, PBASE, TBASE and ATOM are used).

The unit region is parsed in bulk: regular expressions (C loops) find the
block headers and cell lines, numpy maps each cell line to its block, and
pandas' C parser reads the cell columns.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from sigrestore.errors import FormatError
from sigrestore.io._source import line_number
from sigrestore.io.cdf_common import build_cdf
from sigrestore.io.cel_common import parse_key_values
from sigrestore.io.models import CdfData

SIGNATURE = b"[CDF]"
SUPPORTED_VERSIONS = ("GC3.0", "GC4.0", "GC5.0", "GC6.0")

_NEEDED = ("X", "Y", "PBASE", "TBASE", "ATOM")


def _header(data: bytes, name: str) -> tuple[dict[str, str], int]:
    first = data.find(b"\n[Unit")
    if first < 0:
        first = len(data)
    qc = data.find(b"\n[QC")
    head_end = first if qc < 0 else min(first, qc)
    header = parse_key_values(data[:head_end].decode("latin-1").replace("\r", "").split("\n"))
    version = header.get("Version", "").strip()
    if version not in SUPPORTED_VERSIONS:
        raise FormatError(
            f"{name}: ASCII CDF version {version or '(missing)'!s} is not supported "
            f"(supported: {', '.join(SUPPORTED_VERSIONS)})"
        )
    for key in ("Rows", "Cols", "NumberOfUnits"):
        try:
            int(header[key])
        except (KeyError, ValueError):
            raise FormatError(f"{name}: [Chip] section lacks an integer {key}= line") from None
    return header, first + 1 if first < len(data) else len(data)


def _starts_with(arr: np.ndarray, starts: np.ndarray, prefix: bytes) -> np.ndarray:
    """Which lines (given by their start offsets) begin with ``prefix``.

    ``arr`` is padded, so looking a few bytes ahead never leaves it; a line
    shorter than the prefix fails at its line end.
    """
    mask = np.ones(len(starts), dtype=bool)
    for k, ch in enumerate(prefix):
        mask &= arr[starts + k] == ch
    return mask


def _first_after(positions: np.ndarray, at: np.ndarray) -> np.ndarray:
    """For each ``at``, the first element of sorted ``positions`` >= it (-1 if none)."""
    k = np.searchsorted(positions, at)
    out = np.full(len(at), -1, dtype=np.int64)
    ok = k < len(positions)
    out[ok] = positions[k[ok]]
    return out


def _value(line: bytes, key: bytes) -> str | None:
    """The value of a ``key=value`` line, or None when the line is another key."""
    return line[len(key) :].decode("latin-1").strip() if line.startswith(key) else None


def _probeset_names(
    arr: np.ndarray,
    starts: np.ndarray,
    unit_heads: np.ndarray,
    first_blocks: np.ndarray,
    text: Callable[[int], bytes],
) -> list[str]:
    """Each unit's probe-set name, chosen as the Affymetrix Fusion SDK does.

    Expression units (``UnitType=3``) are named by their first block's
    ``Name=``; other units (genotyping, copy number, tag, ... as in Axiom-style
    GC6 files, whose blocks are named ``NONE`` or after alleles) by the
    ``[Unit]`` section's ``Name=``.  Either falls back to the other when it is
    ``NONE`` or absent.  Only the units that need the unit name are looked at
    one by one (none in an expression CDF).
    """
    names = [_value(text(i + 1), b"Name=") or "" for i in first_blocks]
    # The [Unit<n>] header before each unit's first block (-1: none) and its
    # UnitType= line (-1: none before the block).
    k = np.searchsorted(unit_heads, first_blocks) - 1
    head = np.where(k >= 0, unit_heads[np.maximum(k, 0)], -1)
    type_at = _first_after(np.flatnonzero(_starts_with(arr, starts, b"UnitType=")), head)
    has_type = (head >= 0) & (type_at > head) & (type_at < first_blocks)
    at = np.where(has_type, type_at, 0)
    after = arr[starts[at] + len(b"UnitType=3")]
    expression = ~has_type | (
        _starts_with(arr, starts[at], b"UnitType=3") & np.isin(after, list(b"\r\n \t"))
    )
    unnamed = np.array([n.upper() in ("", "NONE") for n in names], dtype=bool)
    for u in np.flatnonzero(~expression | unnamed).tolist():
        h = int(head[u])
        unit = _value(text(h + 1), b"Name=") if h >= 0 and h + 1 < len(starts) else None
        if unit and unit.upper() != "NONE" and (not expression[u] or unnamed[u]):
            names[u] = unit
    return names


def read_ascii_cdf(data: bytes, name: str) -> CdfData:
    """Parse an ASCII CDF file held in memory."""
    header, start = _header(data, name)
    rows, cols = int(header["Rows"]), int(header["Cols"])
    n_units = int(header["NumberOfUnits"])
    chip = header.get("Name", "").strip()
    if rows <= 0 or cols <= 0:
        raise FormatError(f"{name}: invalid array dimensions Rows={rows}, Cols={cols}")
    region = data[start:]
    first_line = line_number(data, start)

    # Every line of the unit region, located with numpy (no per-line Python).
    arr = np.frombuffer(region + b"\n" + bytes(16), dtype=np.uint8)
    ends = np.flatnonzero(arr[: len(region) + 1] == 10)
    starts = np.concatenate([[0], ends[:-1] + 1])
    stops = ends - (arr[np.maximum(ends - 1, 0)] == 13)  # without a CR before the LF

    def text(i: int) -> bytes:
        return region[starts[i] : stops[i]]

    is_cell = _starts_with(arr, starts, b"Cell")
    is_cellheader = _starts_with(arr, starts, b"CellHeader=")
    is_cell &= ~is_cellheader
    unit_lines = np.flatnonzero(_starts_with(arr, starts, b"[Unit"))
    # Block headers "[Unit<n>_Block<k>]" among the "[Unit" lines (~2 per probe set).
    unit_texts = [text(i) for i in unit_lines]
    is_block = np.array([b"_Block" in t for t in unit_texts], dtype=bool)
    block_lines = unit_lines[is_block]
    if len(block_lines) == 0:
        raise FormatError(f"{name}: no [Unit..._Block...] sections: no probe sets")
    try:
        unit_ids = np.array(
            [int(t[5 : t.index(b"_")]) for t, b in zip(unit_texts, is_block, strict=True) if b],
            dtype=np.int64,
        )
    except ValueError:
        raise FormatError(f"{name}: malformed [Unit<n>_Block<k>] section header") from None

    # Per block: "Name=" right after the header, then NumCells= and CellHeader=
    # before its first cell line.
    name_ok = _starts_with(arr, starts[np.minimum(block_lines + 1, len(starts) - 1)], b"Name=")
    name_ok &= block_lines + 1 < len(starts)
    next_block = np.append(block_lines[1:], len(starts))
    numcells_at = _first_after(np.flatnonzero(_starts_with(arr, starts, b"NumCells=")), block_lines)
    header_at = _first_after(np.flatnonzero(is_cellheader), block_lines)
    bad = ~name_ok | (numcells_at < 0) | (header_at < 0) | (numcells_at > header_at)
    bad |= header_at >= next_block
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise FormatError(
            f"{name}: line {first_line + int(block_lines[k])}: unit block section lacks its "
            "Name=, NumCells= or CellHeader= line (malformed or truncated file)"
        )
    try:
        block_cells = np.array(
            [int(text(i)[len(b"NumCells=") :]) for i in numcells_at], dtype=np.int64
        )
    except ValueError:
        raise FormatError(f"{name}: malformed NumCells= line in a unit block") from None
    # Units are the probe sets; a unit's blocks follow one another.
    new_unit = np.ones(len(block_lines), dtype=bool)
    new_unit[1:] = unit_ids[1:] != unit_ids[:-1]
    block_unit = np.cumsum(new_unit) - 1
    names = _probeset_names(arr, starts, unit_lines[~is_block], block_lines[new_unit], text)
    if len(names) != n_units:
        raise FormatError(
            f"{name}: header says NumberOfUnits={n_units}, but {len(names)} units were found "
            "(truncated file?)"
        )
    layouts = {text(i) for i in header_at}
    if len(layouts) != 1:
        raise FormatError(
            f"{name}: unit blocks use {len(layouts)} different CellHeader layouts; expected one"
        )
    columns = layouts.pop()[len(b"CellHeader=") :].decode("latin-1").rstrip("\t ").split("\t")
    missing = [c for c in _NEEDED if c not in columns]
    if missing:
        raise FormatError(f"{name}: CellHeader lacks column(s) {', '.join(missing)}")

    cell_lines = np.flatnonzero(is_cell)
    cell_block = np.searchsorted(block_lines, cell_lines, side="right") - 1
    if len(cell_lines) and cell_block[0] < 0:
        raise FormatError(f"{name}: line {first_line + int(cell_lines[0])}: cell outside a unit")
    found = np.bincount(cell_block, minlength=len(block_lines))
    if (found != block_cells).any():
        k = int(np.flatnonzero(found != block_cells)[0])
        raise FormatError(
            f"{name}: line {first_line + int(block_lines[k])}: block of unit "
            f"{int(unit_ids[k])} declares NumCells={int(block_cells[k])} but has "
            f"{int(found[k])} cell lines (truncated or malformed file)"
        )

    # The cell lines' values (after "Cell<i>="), cut out in one vectorized
    # pass and handed to pandas' C parser.
    cstart, cend = starts[cell_lines], ends[cell_lines]
    eq = _first_after(np.flatnonzero(arr[: len(region)] == ord("=")), cstart)
    if ((eq < 0) | (eq >= cend)).any():
        k = int(np.flatnonzero((eq < 0) | (eq >= cend))[0])
        raise FormatError(f"{name}: line {first_line + int(cell_lines[k])}: malformed cell line")
    delta = np.zeros(len(arr) + 1, dtype=np.int8)
    delta[eq + 1] += 1
    delta[cend + 1] -= 1
    content = arr[np.cumsum(delta[:-1], dtype=np.int8).view(bool)].tobytes()
    use = [columns.index(c) for c in _NEEDED]
    try:
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            # A damaged number can make pandas warn on its way to the error below.
            warnings.simplefilter("ignore", RuntimeWarning)
            table = pd.read_csv(
                io.BytesIO(content),
                sep="\t",
                header=None,
                names=range(max(len(columns), max(use) + 1)),
                usecols=use,
                dtype={
                    use[0]: np.int64,
                    use[1]: np.int64,
                    use[4]: np.int64,
                    use[2]: str,
                    use[3]: str,
                },
                engine="c",
                na_filter=False,
                quoting=3,
                skip_blank_lines=False,
            )
    except (ValueError, OverflowError, pd.errors.ParserError) as exc:
        raise FormatError(f"{name}: malformed probe line in a unit block ({exc})") from None
    if len(table) != len(cell_lines):
        raise FormatError(f"{name}: malformed probe lines in the unit blocks")
    bases = []
    for col in (use[2], use[3]):
        b = table[col].to_numpy().astype("S1")
        bases.append(np.frombuffer(b.tobytes(), dtype=np.uint8))
    return build_cdf(
        name=name,
        chip_type=chip,
        rows=rows,
        cols=cols,
        probeset_names=names,
        cell_probeset=block_unit[cell_block],
        x=table[use[0]].to_numpy(),
        y=table[use[1]].to_numpy(),
        atom=table[use[4]].to_numpy(),
        pbase=bases[0],
        tbase=bases[1],
        header=header,
    )


# ----------------------------------------------------------------------- writing
def cdf_cells(cdf: CdfData) -> dict[str, np.ndarray]:
    """Per-cell arrays (probe set, atom, cell, x, y, pbase, tbase) that reproduce ``cdf``.

    PM and MM cells are paired by atom (the k-th PM with the k-th MM). The
    PM probe base is the complement of the target base, the MM probe base
    equals it (the middle-base mismatch). The target base cycles through
    A, C, G, T: makecdfenv's ``pmormm`` only classifies correctly when all
    four bases occur in both columns (it matches factor level codes).
    """
    n_pm = np.diff(cdf.pm_offsets)
    n_mm = np.diff(cdf.mm_offsets)
    n_ps = cdf.n_probesets
    ps_pm = np.repeat(np.arange(n_ps), n_pm)
    ps_mm = np.repeat(np.arange(n_ps), n_mm)
    atom_pm = np.arange(len(cdf.pm_index)) - np.repeat(cdf.pm_offsets[:-1], n_pm)
    atom_mm = np.arange(len(cdf.mm_index)) - np.repeat(cdf.mm_offsets[:-1], n_mm)
    ps = np.concatenate([ps_pm, ps_mm])
    atom = np.concatenate([atom_pm, atom_mm])
    kind = np.concatenate([np.zeros(len(ps_pm), np.int8), np.ones(len(ps_mm), np.int8)])
    cell = np.concatenate([cdf.pm_index, cdf.mm_index]).astype(np.int64)
    # Cells of a probe set by atom, PM before MM within an atom (as vendor files do).
    order = np.lexsort((kind, atom, ps))
    ps, atom, kind, cell = ps[order], atom[order], kind[order], cell[order]
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)
    complement = np.frombuffer(b"TGCA", dtype=np.uint8)
    k = (ps * 7 + atom) % 4
    tbase = bases[k]
    pbase = np.where(kind == 0, complement[k], bases[k]).astype(np.uint8)
    return {
        "probeset": ps,
        "atom": atom,
        "cell": cell,
        "x": cell % cdf.cols,
        "y": cell // cdf.cols,
        "pbase": pbase,
        "tbase": tbase,
        "n_cells": np.bincount(ps, minlength=n_ps),
        "n_atoms": np.maximum(n_pm, n_mm),
    }


def encode_ascii_cdf(cdf: CdfData) -> bytes:
    """Encode ``cdf`` as an ASCII GC3.0 CDF file (CRLF line ends, as vendor files)."""
    c = cdf_cells(cdf)
    n_ps = cdf.n_probesets
    head = (
        f"[CDF]\r\nVersion=GC3.0\r\n\r\n[Chip]\r\nName={cdf.chip_type}\r\n"
        f"Rows={cdf.rows}\r\nCols={cdf.cols}\r\nNumberOfUnits={n_ps}\r\n"
        f"MaxUnit={1000 + n_ps - 1}\r\nNumQCUnits=0\r\nChipReference=\r\n\r\n"
    )
    # Cell lines, vectorized: every column formatted as an array of strings.
    ps, atom = c["probeset"], c["atom"]
    within = np.arange(len(ps)) - np.repeat(
        np.concatenate([[0], np.cumsum(c["n_cells"])[:-1]]), c["n_cells"]
    )
    names = np.array(cdf.probeset_names, dtype=object)
    pb = np.frombuffer(c["pbase"].tobytes(), dtype="S1").astype(str)
    tb = np.frombuffer(c["tbase"].tobytes(), dtype="S1").astype(str)
    index = c["cell"].astype(str)
    atom_s = atom.astype(str)
    lines = (
        "Cell"
        + (within + 1).astype(str).astype(object)
        + "="
        + c["x"].astype(str).astype(object)
        + "\t"
        + c["y"].astype(str).astype(object)
        + "\tN\tcontrol\t"
        + names[ps]
        + "\t"
        + atom_s.astype(object)
        + "\t13\t"
        + tb.astype(object)
        + "\t"
        + pb.astype(object)
        + "\t"
        + tb.astype(object)
        + "\t"
        + atom_s.astype(object)
        + "\t"
        + index.astype(object)
        + "\t-1\t-1\t99\t\r\n"
    )
    ends = np.cumsum(c["n_cells"])
    starts = ends - c["n_cells"]
    parts = [head]
    cell_header = (
        "CellHeader=X\tY\tPROBE\tFEAT\tQUAL\tEXPOS\tPOS\tCBASE\tPBASE\tTBASE\tATOM\tINDEX"
        "\tCODONIND\tCODON\tREGIONTYPE\tREGION\r\n"
    )
    # One string per probe set: unavoidable for a text format, and cheap.
    for i, nm in enumerate(cdf.probeset_names):
        u = 1000 + i
        na, nc = int(c["n_atoms"][i]), int(c["n_cells"][i])
        parts.append(
            f"[Unit{u}]\r\nName=NONE\r\nDirection=1\r\nNumAtoms={na}\r\nNumCells={nc}\r\n"
            f"UnitNumber={u}\r\nUnitType=3\r\nNumberBlocks=1\r\n\r\n"
            f"[Unit{u}_Block1]\r\nName={nm}\r\nBlockNumber=1\r\nNumAtoms={na}\r\n"
            f"NumCells={nc}\r\nStartPosition=0\r\nStopPosition={max(na - 1, 0)}\r\n"
            + cell_header
            + "".join(lines[starts[i] : ends[i]])
            + "\r\n\r\n"
        )
    return "".join(parts).encode("latin-1")
