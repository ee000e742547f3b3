"""A compact on-disk cache of parsed CDF files (.npz), so a library is parsed once.

The cache file name carries a key made of the CDF's size, modification time
and a hash of its first and last MiB: cheap to compute (no full read) and
changed by any copy, edit or replacement of the CDF.  A cache that is missing,
unreadable or inconsistent is silently rebuilt; it is written atomically, so
parallel jobs never see a half-written cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from sigrestore.atomic import atomic_path
from sigrestore.errors import FormatError
from sigrestore.io.cdf import read_cdf
from sigrestore.io.models import CdfData

CACHE_VERSION = 2
_SAMPLE = 1 << 20


def default_cache_dir() -> Path:
    """``$SIGRESTORE_CACHE`` or ``$XDG_CACHE_HOME/sigrestore`` (``~/.cache/sigrestore``)."""
    env = os.environ.get("SIGRESTORE_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sigrestore"


def cache_key(path: str | os.PathLike[str]) -> str:
    """Key of the CDF's current content: size, mtime and head/tail hash."""
    try:
        st = os.stat(path)
        h = hashlib.blake2b(digest_size=12)
        h.update(f"{CACHE_VERSION}:{st.st_size}:{st.st_mtime_ns}".encode())
        with open(path, "rb") as fh:
            h.update(fh.read(_SAMPLE))
            if st.st_size > 2 * _SAMPLE:
                fh.seek(st.st_size - _SAMPLE)
                h.update(fh.read(_SAMPLE))
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return h.hexdigest()


def cache_path(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str]) -> Path:
    return Path(cache_dir) / f"{Path(path).name}.{cache_key(path)}.cdf.npz"


def save_cdf_cache(cdf: CdfData, path: str | os.PathLike[str]) -> None:
    """Write ``cdf`` to the cache file ``path`` (atomically)."""
    if any("\n" in n for n in cdf.probeset_names):
        raise ValueError("probe-set names with line breaks cannot be cached")
    names = "\n".join(cdf.probeset_names).encode("utf-8")
    meta = {
        "version": CACHE_VERSION,
        "n_probesets": cdf.n_probesets,
        "chip_type": cdf.chip_type,
        "rows": cdf.rows,
        "cols": cdf.cols,
        "header": cdf.header,
    }
    small = cdf.rows * cdf.cols < 2**31
    idx_type = np.int32 if small else np.int64
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
            names=np.frombuffer(names, dtype=np.uint8),
            pm_index=cdf.pm_index.astype(idx_type),
            pm_offsets=cdf.pm_offsets.astype(np.int64),
            mm_index=cdf.mm_index.astype(idx_type),
            mm_offsets=cdf.mm_offsets.astype(np.int64),
        )


def read_cdf_cache(path: str | os.PathLike[str]) -> CdfData | None:
    """Load a cache file; ``None`` if it is missing, unreadable or inconsistent."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
            names_blob = z["names"].tobytes().decode("utf-8")
            arrays = {
                k: z[k].astype(np.int64)
                for k in ("pm_index", "pm_offsets", "mm_index", "mm_offsets")
            }
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, UnicodeError):
        return None
    try:
        if meta.get("version") != CACHE_VERSION:
            return None
        n = int(meta["n_probesets"])
        rows, cols, chip = int(meta["rows"]), int(meta["cols"]), str(meta["chip_type"])
        header = {str(k): str(v) for k, v in dict(meta.get("header", {})).items()}
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    names = names_blob.split("\n") if n else []
    if len(names) != n:
        return None
    n_cells = rows * cols
    for kind in ("pm", "mm"):
        idx, off = arrays[f"{kind}_index"], arrays[f"{kind}_offsets"]
        if (
            len(off) != n + 1
            or off[0] != 0
            or off[-1] != len(idx)
            or (np.diff(off) < 0).any()
            or (len(idx) and (idx.min() < 0 or idx.max() >= n_cells))
        ):
            return None
    return CdfData(
        chip_type=chip, rows=rows, cols=cols, probeset_names=names, header=header, **arrays
    )


def load_cdf(
    path: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None
) -> CdfData:
    """Read a CDF through the cache: parse once, then load the .npz (milliseconds).

    Parameters
    ----------
    path
        The CDF file (any format :func:`read_cdf` reads).
    cache_dir
        Where cache files live (default :func:`default_cache_dir`). When it
        cannot be written the CDF is simply parsed.
    """
    cdir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = cache_path(path, cdir)
    if target.exists():
        cached = read_cdf_cache(target)
        if cached is not None:
            return cached
    cdf = read_cdf(path)
    with contextlib.suppress(OSError, ValueError):
        save_cdf_cache(cdf, target)
    return cdf
