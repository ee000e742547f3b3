"""From a flat table of CDF cells to :class:`CdfData` (shared by both CDF readers).

Rules (as makecdfenv/affy apply them, checked against ``cdf_reference.tsv``):

- a cell is a PM probe when its probe base (PBASE) is the Watson-Crick
  complement of the target base (TBASE), an MM probe otherwise;
- within a probe set, PM and MM cells are listed by atom (cells of the same
  atom by cell index, as makecdfenv's stable ``order()`` over the cell grid);
- probe sets keep the order of the file; QC units are not probe sets.
"""

from __future__ import annotations

import numpy as np

from sigrestore.errors import FormatError
from sigrestore.io.models import CdfData

# Complement of each base letter (upper and lower case), by byte code.
_COMPLEMENT = np.zeros(256, dtype=np.uint8)
_UPPER = np.arange(256, dtype=np.uint8)
_UPPER[ord("a") : ord("z") + 1] -= 32
for _a, _b in (("A", "T"), ("T", "A"), ("C", "G"), ("G", "C")):
    _COMPLEMENT[ord(_a)] = ord(_b)


def is_pm(pbase: np.ndarray, tbase: np.ndarray) -> np.ndarray:
    """True where the probe base pairs (Watson-Crick) with the target base."""
    p = _UPPER[np.asarray(pbase, dtype=np.uint8)]
    t = _UPPER[np.asarray(tbase, dtype=np.uint8)]
    comp = _COMPLEMENT[t]
    return (comp != 0) & (p == comp)


def _check_unique(names: list[str], file: str) -> None:
    """Probe-set names are keys (RMA output rows, ``CdfData.pm(name)``): no repeats."""
    uniq, counts = np.unique(np.asarray(names, dtype=object).astype(str), return_counts=True)
    if (counts > 1).any():
        dups = uniq[counts > 1]
        shown = ", ".join(repr(str(d)) for d in dups[:5])
        more = f" and {len(dups) - 5} more" if len(dups) > 5 else ""
        raise FormatError(
            f"{file}: duplicate probe-set name(s) {shown}{more}: each occurs more than once, "
            "but probe-set names must be unique"
        )


def build_cdf(
    *,
    name: str,
    chip_type: str,
    rows: int,
    cols: int,
    probeset_names: list[str],
    cell_probeset: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    atom: np.ndarray,
    pbase: np.ndarray,
    tbase: np.ndarray,
    header: dict[str, str],
) -> CdfData:
    """Assemble :class:`CdfData` from per-cell arrays given in file order."""
    n_ps = len(probeset_names)
    _check_unique(probeset_names, name)
    x = np.asarray(x, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    bad = (x < 0) | (y < 0) | (x >= cols) | (y >= rows)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise FormatError(
            f"{name}: {int(bad.sum())} probe coordinate(s) outside the {cols} x {rows} array "
            f"(first: x={x[k]}, y={y[k]} in probe set {probeset_names[int(cell_probeset[k])]!r})"
        )
    cell = y * cols + x
    pm = is_pm(pbase, tbase)
    # makecdfenv orders by atom with R's stable order() over cells taken in
    # cell-index order, so cells sharing an atom are listed by cell index.
    order = np.lexsort((cell, np.asarray(atom, dtype=np.int64), np.asarray(cell_probeset)))
    ps_sorted = np.asarray(cell_probeset)[order]
    pm_sorted = pm[order]

    def csr(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = cell[order][mask]
        counts = np.bincount(ps_sorted[mask], minlength=n_ps)
        offsets = np.zeros(n_ps + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return idx.astype(np.int64), offsets

    pm_index, pm_offsets = csr(pm_sorted)
    mm_index, mm_offsets = csr(~pm_sorted)
    return CdfData(
        chip_type=chip_type,
        rows=rows,
        cols=cols,
        probeset_names=list(probeset_names),
        pm_index=pm_index,
        pm_offsets=pm_offsets,
        mm_index=mm_index,
        mm_offsets=mm_offsets,
        header=dict(header),
    )
