"""In-memory forms of the raw Affymetrix files.

These two classes are the contract between the readers and everything
downstream (RMA, QC, the simulator).  Readers may add fields; they must not
rename or drop the ones below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class CelData:
    """One scanned array.

    Attributes
    ----------
    path
        The file it was read from (``""`` for data built in memory).
    format
        ``"text-v3"``, ``"xda-v4"`` or ``"calvin"`` (Command Console / AGCC).
    chip_type
        The array type (CDF name), e.g. ``"HG-U133A"``.
    rows, cols
        Array dimensions in cells; ``intensity`` has ``rows * cols`` entries.
    intensity
        float64 mean intensities, cell index ``y * cols + x``.
    stdev
        float64 standard deviations, same layout.
    npixels
        int32 pixel counts, same layout.
    masks, outliers
        int64 cell indices (``y * cols + x``), sorted ascending.
    header
        The raw header fields as strings, as the file gives them.
    """

    path: str
    format: str
    chip_type: str
    rows: int
    cols: int
    intensity: np.ndarray
    stdev: np.ndarray
    npixels: np.ndarray
    masks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    outliers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    header: dict[str, str] = field(default_factory=dict)

    @property
    def n_cells(self) -> int:
        return self.rows * self.cols


@dataclass(frozen=True, eq=False)
class CdfData:
    """An array layout: which cells are the PM and MM probes of each probe set.

    Probe sets are kept in file order. Their probes are stored as flat,
    0-based cell-index arrays with offsets (CSR layout), so a library with
    54,675 probe sets is a handful of numpy arrays rather than 54,675 objects:
    the PM cells of probe set ``i`` are ``pm_index[pm_offsets[i]:pm_offsets[i + 1]]``
    in atom order (the order affy/makecdfenv gives), and likewise for MM.
    A probe set without MM probes has an empty MM range.

    Attributes
    ----------
    chip_type, rows, cols
        As in the CDF header; cell index = ``y * cols + x``.
    probeset_names
        Probe-set names in file order.
    pm_index, pm_offsets, mm_index, mm_offsets
        int64 arrays; ``*_offsets`` has ``len(probeset_names) + 1`` entries.
    """

    chip_type: str
    rows: int
    cols: int
    probeset_names: list[str]
    pm_index: np.ndarray
    pm_offsets: np.ndarray
    mm_index: np.ndarray
    mm_offsets: np.ndarray
    header: dict[str, str] = field(default_factory=dict)

    @property
    def n_probesets(self) -> int:
        return len(self.probeset_names)

    def pm(self, name: str) -> np.ndarray:
        """PM cell indices (0-based, atom order) of the probe set ``name``."""
        i = self._position(name)
        return self.pm_index[self.pm_offsets[i] : self.pm_offsets[i + 1]]

    def mm(self, name: str) -> np.ndarray:
        """MM cell indices (0-based, atom order) of the probe set ``name``."""
        i = self._position(name)
        return self.mm_index[self.mm_offsets[i] : self.mm_offsets[i + 1]]

    def _position(self, name: str) -> int:
        try:
            return self.probeset_names.index(name)
        except ValueError:
            raise KeyError(f"probe set {name!r} is not in the {self.chip_type} CDF") from None
