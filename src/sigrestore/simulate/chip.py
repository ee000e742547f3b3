"""Synthetic 3' expression arrays: a chip layout (CDF) and realistic CEL intensities.

The layout mimics HG-U133-style arrays: each probe pair is a PM cell with its
MM cell directly below it (adjacent rows), pairs of one probe set scattered
over the array.  The intensity model for probe ``i`` of probe set ``g`` on
array ``j`` (all random effects seeded, so results are reproducible)::

    signal_PM = s_j * 2 ** (e_gj + a_i)             (a_i: probe affinity, shared by arrays)
    signal_MM = f_i * signal_PM                      (f_i: MM cross-hybridization fraction)
    I = signal * exp(eps) + b                        (eps ~ N(0, sigma_j), b ~ N(mu_j, tau_j))

clipped to the scanner range [20, 46000]; ``e`` is the given log2 expression,
``s_j`` an array scale (brightness) effect, ``mu_j``/``tau_j`` the array's
background level and spread.  Cells not used by any probe are background.
Standard deviations are a fraction of the intensity plus pixel noise; pixel
counts are those of a 3x3-pixel-per-feature scan after the cell margin.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from sigrestore.io.cel_common import make_dat_header
from sigrestore.io.models import CdfData, CelData

SCANNER_MIN = 20.0
SCANNER_MAX = 46000.0


def _auto_dims(n_cells: int) -> tuple[int, int]:
    """A square array with an even number of rows and ~3.5% spare cells (as HG-U133A)."""
    side = math.ceil(math.sqrt(n_cells * 1.034))
    side += side % 2
    return side, side


def make_layout(
    n_probesets: int,
    *,
    probes_per_set: int = 11,
    rows: int | None = None,
    cols: int | None = None,
    chip_type: str = "SIMCHIP",
    control_probesets: int = 0,
    seed: int = 0,
) -> CdfData:
    """A synthetic 3' expression array layout.

    Parameters
    ----------
    n_probesets
        Number of probe sets, controls included.
    probes_per_set
        PM/MM probe pairs per probe set.
    rows, cols
        Array dimensions; chosen automatically (square, ~3.5% spare cells) when
        None. ``make_layout(22283)`` gives HG-U133A's 712 x 712.
    chip_type
        The chip type (CDF name) recorded in the layout.
    control_probesets
        How many of the probe sets are ``AFFX-`` controls (named first).
    seed
        Seed of the random placement of probe pairs.

    Returns
    -------
    CdfData
        PM cell at ``(x, 2k)``, its MM at ``(x, 2k + 1)``.
    """
    if n_probesets < 1 or probes_per_set < 1:
        raise ValueError("n_probesets and probes_per_set must be positive")
    if not 0 <= control_probesets <= n_probesets:
        raise ValueError("control_probesets must be between 0 and n_probesets")
    n_pairs = n_probesets * probes_per_set
    if rows is None or cols is None:
        auto_rows, auto_cols = _auto_dims(2 * n_pairs)
        rows = auto_rows if rows is None else rows
        cols = auto_cols if cols is None else cols
    slots = cols * (rows // 2)
    if slots < n_pairs:
        raise ValueError(f"a {cols} x {rows} array holds {slots} PM/MM pairs, {n_pairs} are needed")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    slot = rng.permutation(slots)[:n_pairs].astype(np.int64)
    pair_row, x = np.divmod(slot, cols)
    pm = (2 * pair_row) * cols + x
    mm = pm + cols
    names = [f"AFFX-SIM-{k + 1:04d}_at" for k in range(control_probesets)]
    names += [f"SIM{k + 1:06d}_at" for k in range(n_probesets - control_probesets)]
    offsets = np.arange(0, n_pairs + 1, probes_per_set, dtype=np.int64)
    return CdfData(
        chip_type=chip_type,
        rows=rows,
        cols=cols,
        probeset_names=names,
        pm_index=pm,
        pm_offsets=offsets,
        mm_index=mm,
        mm_offsets=offsets.copy(),
        header={"Name": chip_type, "Rows": str(rows), "Cols": str(cols), "Simulated": "1"},
    )


def _probe_effects(cdf: CdfData, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cell probe affinity (log2), MM fraction, and the probe set of every PM cell."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    n_pm = len(cdf.pm_index)
    affinity = rng.normal(0.0, 0.7, n_pm)  # log2 units; PM probes of one set differ ~1.6x
    mm_fraction = rng.beta(2.0, 5.0, len(cdf.mm_index))  # mean ~0.29 of the PM signal
    ps_of_pm = np.repeat(np.arange(cdf.n_probesets), np.diff(cdf.pm_offsets))
    return affinity, mm_fraction, ps_of_pm


def _pm_of_mm(cdf: CdfData) -> np.ndarray:
    """For each MM cell, the position (in pm_index) of the PM cell of the same atom."""
    n_pm = np.diff(cdf.pm_offsets)
    n_mm = np.diff(cdf.mm_offsets)
    k = np.arange(len(cdf.mm_index)) - np.repeat(cdf.mm_offsets[:-1], n_mm)
    base = np.repeat(cdf.pm_offsets[:-1], n_mm)
    has_pm = np.repeat(n_pm, n_mm)
    # MM cells without a matching PM (unequal counts) borrow the set's last PM.
    return base + np.minimum(k, np.maximum(has_pm - 1, 0))


def iter_arrays(
    cdf: CdfData,
    log2_expression: np.ndarray,
    *,
    seed: int = 0,
    chip_type: str | None = None,
    names: Sequence[str] | None = None,
    first_index: int = 0,
) -> Iterator[CelData]:
    """Yield the arrays of :func:`synthesize_arrays` one at a time (bounded memory).

    ``first_index`` is the global index of the first column, so that a long
    experiment generated in column chunks equals the one generated at once.
    """
    expr = np.asarray(log2_expression, dtype=np.float64)
    if expr.ndim == 1:
        expr = expr[:, None]
    if expr.shape[0] != cdf.n_probesets:
        raise ValueError(
            f"log2_expression has {expr.shape[0]} rows, the layout {cdf.n_probesets} probe sets"
        )
    if not np.isfinite(expr).all():
        raise ValueError("log2_expression must be finite")
    n_arrays = expr.shape[1]
    if names is not None and len(names) != n_arrays:
        raise ValueError(f"{len(names)} names for {n_arrays} arrays")
    chip = chip_type or cdf.chip_type
    n_cells = cdf.rows * cdf.cols
    affinity, mm_fraction, ps_of_pm = _probe_effects(cdf, seed)
    pm_of_mm = _pm_of_mm(cdf)
    # Pixel counts depend on the scan grid, not on the sample: shared by all arrays.
    grid = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    npixels = grid.choice(np.array([16, 20, 25], dtype=np.int32), n_cells, p=[0.2, 0.4, 0.4])
    npixels.setflags(write=False)
    header = {"DatHeader": make_dat_header(chip, rows=cdf.rows, cols=cdf.cols)}
    header["Algorithm"] = "Percentile"
    header["AlgorithmParameters"] = "Percentile:75;CellMargin:2;OutlierHigh:1.500;OutlierLow:1.004"
    for j in range(n_arrays):
        g = first_index + j
        rng = np.random.default_rng(np.random.SeedSequence([seed, 4, g]))
        scale = 2.0 ** rng.normal(0.0, 0.3)
        bg_mean = rng.uniform(50.0, 130.0)
        bg_sd = bg_mean * rng.uniform(0.12, 0.2)
        noise_sd = rng.uniform(0.08, 0.16)
        pm_signal = scale * np.exp2(expr[ps_of_pm, j] + affinity)
        signal = np.zeros(n_cells)
        signal[cdf.pm_index] = pm_signal
        signal[cdf.mm_index] = mm_fraction * pm_signal[pm_of_mm]
        intensity = signal * np.exp(rng.normal(0.0, noise_sd, n_cells))
        intensity += rng.normal(bg_mean, bg_sd, n_cells)
        np.clip(intensity, SCANNER_MIN, SCANNER_MAX, out=intensity)
        # Scanner values carry one decimal, as real CEL files do.
        intensity = np.round(intensity, 1)
        stdev = np.round(
            intensity * rng.uniform(0.08, 0.25, n_cells) + rng.gamma(2.0, 4.0, n_cells), 1
        )
        yield CelData(
            path="",
            format="simulated",
            chip_type=chip,
            rows=cdf.rows,
            cols=cdf.cols,
            intensity=intensity,
            stdev=stdev,
            npixels=npixels,
            header={**header, "Name": names[j] if names is not None else f"array{g + 1}"},
        )


def synthesize_arrays(
    cdf: CdfData,
    log2_expression: np.ndarray,
    *,
    seed: int = 0,
    chip_type: str | None = None,
    names: Sequence[str] | None = None,
) -> list[CelData]:
    """Realistic probe-level intensities for arrays of the layout ``cdf``.

    Parameters
    ----------
    cdf
        The layout (e.g. from :func:`make_layout`).
    log2_expression
        ``n_probesets x n_arrays`` true log2 expression (about 3 to 14 is
        realistic: background is ~2**6.5).
    seed
        Seeds every random effect; probe effects are shared by all arrays.
    chip_type
        Chip type written in the arrays (default: the layout's).
    names
        Array names, stored as ``header["Name"]``.

    Returns
    -------
    list of CelData
        One per column, ``format="simulated"``. An HG-U133A-size array takes
        ~8 MB (pixel counts are shared); for hundreds of arrays use
        :func:`iter_arrays` and write each one out.
    """
    return list(iter_arrays(cdf, log2_expression, seed=seed, chip_type=chip_type, names=names))
