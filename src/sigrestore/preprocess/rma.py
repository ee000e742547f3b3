"""RMA end to end: background, quantile normalization, median polish, QC.

Arrays are streamed: each is loaded, its PM values gathered, background
corrected in float64, sorted once into the quantile target sum, and reduced to
int32 rank codes (see :mod:`.quantile`).  Only the ``n_pm x n_arrays`` int32
code matrix is held across arrays; normalized log2 values are rebuilt block by
block from the codes and the float64 target while median polish runs.  Peak
memory is therefore about ``4 * n_pm * n_arrays`` bytes plus a few arrays'
worth of float64 working space (about 0.5 GB for 500 HG-U133A arrays).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sigrestore.errors import FormatError, SigrestoreError
from sigrestore.io.models import CdfData, CelData

from . import qc as _qc
from .background import BackgroundParams, adjust_background, fit_background
from .ordering import r_sort_key
from .quantile import QuantileAccumulator, rank_codes
from .summarize import summarize_blocks

__all__ = ["RmaResult", "rma", "run_rma"]

ArrayLike = str | os.PathLike | CelData | np.ndarray


@dataclass
class RmaResult:
    """Everything one RMA run produces.

    Attributes
    ----------
    expression
        Probe sets x samples, log2 RMA expression (float64).
    background
        Per sample: fitted ``alpha``, ``mu``, ``sigma`` (NaN without background).
    raw_stats, normalized_stats
        Per sample: boxplot statistics (``q1, med, q3, whislo, whishi, mean, iqr``)
        and quantiles ``p00 ... p100`` of log2 PM before background correction
        and after normalization.
    density_grid, raw_density, normalized_density
        Bin centres (log2) and per-sample densities (grid x samples).
    rle_stats, nuse_stats
        Per sample boxplot statistics of RLE and NUSE (empty without QC).
    qc
        Per-array summary table with outlier flags (empty without QC).
    residual_images
        Binned residual pseudo-images (``None`` without QC).
    """

    expression: pd.DataFrame
    background: pd.DataFrame
    raw_stats: pd.DataFrame
    normalized_stats: pd.DataFrame
    density_grid: np.ndarray
    raw_density: pd.DataFrame
    normalized_density: pd.DataFrame
    rle_stats: pd.DataFrame
    nuse_stats: pd.DataFrame
    qc: pd.DataFrame
    residual_images: _qc.ResidualImages | None


def _strip_suffixes(name: str) -> str:
    for suffix in (".gz", ".npy", ".cel", ".CEL", ".Cel"):
        if name.lower().endswith(suffix.lower()):
            name = name[: -len(suffix)]
    return name


def _default_name(item: Any, j: int) -> str:
    if isinstance(item, str | os.PathLike):
        return _strip_suffixes(Path(item).name)
    if isinstance(item, CelData) and item.path:
        return _strip_suffixes(Path(item.path).name)
    return f"sample_{j + 1}"


def _load_intensity(item: Any, n_cells: int, label: str) -> np.ndarray:
    """Cell intensities of one array (lazy for .npy: memory-mapped)."""
    if isinstance(item, str | os.PathLike):
        path = Path(item)
        if path.suffix.lower() == ".npy":
            try:
                data = np.load(path, mmap_mode="r")
            except (OSError, ValueError) as exc:
                raise FormatError(f"{path}: cannot load intensities ({exc})") from exc
        else:
            from sigrestore.io import read_cel_intensity

            data = read_cel_intensity(path)
    elif isinstance(item, CelData):
        data = item.intensity
    elif isinstance(item, np.ndarray):
        data = item
    else:
        raise SigrestoreError(
            f"{label}: expected a CEL/.npy path, CelData or 1-D array, got {type(item).__name__}"
        )
    if data.ndim != 1 or data.size != n_cells:
        raise FormatError(
            f"{label}: has {data.size} cells (shape {data.shape}), but the CDF layout has {n_cells}"
        )
    return data


def _resolve_cdf(cdf: CdfData | str | os.PathLike) -> CdfData:
    if isinstance(cdf, CdfData):
        return cdf
    from sigrestore.io import load_cdf

    # Parsed once per CDF: load_cdf keeps an .npz cache in the user cache
    # directory ($SIGRESTORE_CACHE or ~/.cache/sigrestore); pass a CdfData from
    # load_cdf(path, cache_dir=...) to keep it elsewhere.
    return load_cdf(cdf)


def _stats_frame(rows: list[dict[str, float]], names: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=pd.Index(names, name="sample"))


def run_rma(
    arrays: Sequence[ArrayLike] | Iterable[ArrayLike],
    cdf: CdfData | str | os.PathLike,
    *,
    background: bool = True,
    normalize: bool = True,
    sample_names: Sequence[str] | None = None,
    n_jobs: int = 1,
    qc: bool = True,
    order: str = "r",
    max_block_bytes: int = 64 << 20,
) -> RmaResult:
    """RMA expression plus the data behind the QC report.

    Parameters
    ----------
    arrays
        One entry per array: a CEL path, a ``.npy`` path holding the cell
        intensities (memory-mapped, read lazily), a :class:`CelData`, or a 1-D
        intensity vector in cell order (``y * cols + x``).
    cdf
        The layout, as :class:`CdfData` or a CDF path.
    background, normalize
        Run the RMA background correction / quantile normalization.
    sample_names
        Column names; by default file names without ``.CEL``/``.npy``/``.gz``.
    n_jobs
        Threads for the per-array pass (reading, decompression, parsing,
        background, sorting) and for the per-block pass (median polish and
        the QC's probe-level fit).  Files are read by a pool of ``n_jobs`` threads,
        so one file's decompression and parsing overlap the next one's (ISA-L
        inflate, Arrow's CSV parser and numpy's sorts release the GIL); arrays
        are combined in their given order, so the result is bit-identical for
        every ``n_jobs``.  Pass the job's ``threads``.  A file that cannot be
        read fails the run with an error naming it.
    qc
        Also fit affyPLM's default probe-level model (robust Huber fit) for
        RLE, NUSE and residual images, and compute the QC table.
    order
        ``"r"``: probe sets sorted as R sorts them (affy's order);
        ``"cdf"``: CDF file order.
    max_block_bytes
        Working-memory budget of one summarization block.

    Returns
    -------
    RmaResult
    """
    layout = _resolve_cdf(cdf)
    items = list(arrays)
    n = len(items)
    if n == 0:
        raise SigrestoreError("rma: no arrays given")
    names = [_default_name(it, j) for j, it in enumerate(items)]
    if sample_names is not None:
        names = [str(s) for s in sample_names]
        if len(names) != n:
            raise SigrestoreError(f"rma: {len(names)} sample names for {n} arrays")
    if len(set(names)) != n:
        raise SigrestoreError(f"rma: sample names are not unique: {names}")
    if order not in ("r", "cdf"):
        raise SigrestoreError(f"rma: order must be 'r' or 'cdf', got {order!r}")

    pm_index = np.asarray(layout.pm_index, dtype=np.int64)
    offsets = np.asarray(layout.pm_offsets, dtype=np.int64)
    n_pm = pm_index.size
    if n_pm == 0:
        raise FormatError(f"CDF {layout.chip_type}: no PM probes")
    n_cells = layout.rows * layout.cols
    if pm_index.min() < 0 or pm_index.max() >= n_cells:
        raise FormatError(f"CDF {layout.chip_type}: PM cell index outside the {n_cells} cells")

    acc = QuantileAccumulator(n_pm)
    # int32 rank codes when normalizing; otherwise the (background-corrected) values.
    # One row per array: each array is written contiguously, and a block of probe
    # sets (consecutive in the CDF) is a contiguous slice of every row.
    store = np.empty((n, n_pm), dtype=np.int32 if normalize else np.float64)
    bg_rows: list[dict[str, float]] = []
    raw_rows: list[dict[str, float]] = []
    raw_dens = np.empty((_qc.DENSITY_EDGES.size - 1, n))

    def first_pass(j: int) -> tuple[Any, ...]:
        try:
            return _first_pass(j)
        except SigrestoreError:
            raise  # the readers' and checks' messages name the file or array already
        except Exception as exc:
            # A worker that dies on one file (I/O error, out of memory, a bug)
            # fails the run naming that file, not with a bare traceback.
            where = (
                f"{os.fspath(items[j])}" if isinstance(items[j], str | os.PathLike) else names[j]
            )
            raise SigrestoreError(
                f"array {j + 1} ({where}): reading or preprocessing failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _first_pass(j: int) -> tuple[Any, ...]:
        data = _load_intensity(items[j], n_cells, f"array {j + 1} ({names[j]})")
        pm = np.asarray(data[pm_index], dtype=np.float64)
        if not np.all(np.isfinite(pm)) or pm.min() <= 0:
            raise FormatError(
                f"array {j + 1} ({names[j]}): PM intensities must be finite and positive"
            )
        order = np.argsort(pm) if normalize or background or qc else None
        sorted_pm = None if order is None else pm[order]
        stats, dens = {}, None
        if qc:
            # log2 is increasing, so the one sort of the raw values serves the QC
            # summary too (checked, in case a vectorized log2 is an ulp off monotone)
            raw_log2 = np.log2(sorted_pm)
            if not np.all(raw_log2[1:] >= raw_log2[:-1]):
                raw_log2.sort()
            stats, dens = _qc.distribution_summary(raw_log2, assume_sorted=True)
        params = BackgroundParams(np.nan, np.nan, np.nan)
        if background:
            params = fit_background(sorted_pm, assume_sorted=True)
            pm = adjust_background(pm, params)
        if normalize:
            # The correction is increasing in x, so the raw order usually sorts
            # the corrected values too (rank_codes checks and re-sorts if not).
            sv, codes = rank_codes(pm, order=order)
            return sv, codes, params, stats, dens
        return None, pm, params, stats, dens

    def consume(j: int, res: tuple[Any, ...]) -> None:
        sv, col, params, stats, dens = res
        if normalize:
            acc.add_sorted(sv)  # in array order, so the result does not depend on n_jobs
        store[j] = col
        bg_rows.append({"alpha": params.alpha, "mu": params.mu, "sigma": params.sigma})
        raw_rows.append(stats)
        if dens is not None:
            raw_dens[:, j] = dens

    if n_jobs > 1:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            for j, res in enumerate(pool.map(first_pass, range(n))):
                consume(j, res)
    else:
        for j in range(n):
            consume(j, first_pass(j))

    target = acc.target if normalize else None

    def decode(stored: np.ndarray) -> np.ndarray:
        """log2 normalized (or corrected) values of stored rank codes (or values)."""
        return np.log2(acc.normalize(stored, target) if normalize else stored)

    def fetch(rows: np.ndarray) -> np.ndarray:
        return decode(np.moveaxis(store[:, rows], 0, -1))

    norm_rows: list[dict[str, float]] = []
    norm_dens = np.empty_like(raw_dens)
    if qc:
        for j in range(n):
            stats, dens = _qc.distribution_summary(decode(store[j]))
            norm_rows.append(stats)
            norm_dens[:, j] = dens

    n_sets = offsets.size - 1
    # affyPLM's default fitPLM per probe set: chip effects (for RLE) and their SEs (NUSE)
    se = np.full((n_sets, n), np.nan) if qc else None
    plm_coef = np.full((n_sets, n), np.nan) if qc else None
    images = _qc.ResidualImages.allocate(layout.rows, layout.cols, n) if qc else None

    def plm_fit(y: np.ndarray) -> _qc.PlmFit:
        return _qc.fit_plm_block(y, max_bytes=max_block_bytes)

    def on_block(sets: np.ndarray, rows: np.ndarray, fit: _qc.PlmFit) -> None:
        se[sets] = fit.se
        plm_coef[sets] = fit.chip_effects
        images.add(pm_index[rows].ravel(), fit.residuals.reshape(-1, n))

    # Median polish and the PLM fit of each block run on n_jobs threads; the
    # results are stored in block order (bit-identical for every n_jobs).
    expr = summarize_blocks(
        fetch,
        offsets,
        n,
        max_bytes=max_block_bytes,
        block_fit=plm_fit if qc else None,
        on_block=on_block if qc else None,
        n_jobs=n_jobs,
    )

    set_names = list(layout.probeset_names)
    perm = (
        np.array(sorted(range(n_sets), key=lambda i: r_sort_key(set_names[i])), dtype=np.int64)
        if order == "r"
        else np.arange(n_sets)
    )
    index = pd.Index([set_names[i] for i in perm], name="probeset")
    expression = pd.DataFrame(expr[perm], index=index, columns=names)

    grid = 0.5 * (_qc.DENSITY_EDGES[:-1] + _qc.DENSITY_EDGES[1:])
    bg_frame = _stats_frame(bg_rows, names)
    raw_stats = _stats_frame(raw_rows, names) if qc else pd.DataFrame(index=names)
    if qc:
        rle_values = _qc.rle(plm_coef)  # affyPLM's RLE/Mbox: from the PLM chip effects
        nuse_values = _qc.nuse(se)
        rle_stats = _stats_frame([_qc.box_stats(rle_values[:, j]) for j in range(n)], names)
        nuse_stats = _stats_frame([_qc.box_stats(nuse_values[:, j]) for j in range(n)], names)
        table = _qc.qc_table(
            names, rle_values, nuse_values, raw_stats=raw_stats, background=bg_frame
        )
        images.finish()
    else:
        rle_stats = nuse_stats = table = pd.DataFrame(index=pd.Index(names, name="sample"))

    return RmaResult(
        expression=expression,
        background=bg_frame,
        raw_stats=raw_stats,
        normalized_stats=_stats_frame(norm_rows, names) if qc else pd.DataFrame(index=names),
        density_grid=grid,
        raw_density=pd.DataFrame(
            raw_dens if qc else np.empty((grid.size, 0)), index=grid, columns=names if qc else None
        ),
        normalized_density=pd.DataFrame(
            norm_dens if qc else np.empty((grid.size, 0)), index=grid, columns=names if qc else None
        ),
        rle_stats=rle_stats,
        nuse_stats=nuse_stats,
        qc=table,
        residual_images=images,
    )


def rma(
    arrays: Sequence[ArrayLike] | Iterable[ArrayLike],
    cdf: CdfData | str | os.PathLike,
    *,
    background: bool = True,
    normalize: bool = True,
    sample_names: Sequence[str] | None = None,
    n_jobs: int = 1,
    order: str = "r",
    max_block_bytes: int = 64 << 20,
) -> pd.DataFrame:
    """RMA expression (probe sets x samples, log2), as ``exprs(affy::rma(...))``.

    Same arguments as :func:`run_rma` without the QC part.
    """
    return run_rma(
        arrays,
        cdf,
        background=background,
        normalize=normalize,
        sample_names=sample_names,
        n_jobs=n_jobs,
        qc=False,
        order=order,
        max_block_bytes=max_block_bytes,
    ).expression
