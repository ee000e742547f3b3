"""Atomic output: write to a temporary name in the same directory, then rename.

An interrupted job must never leave a complete-looking file behind, so every
writer in the package goes through :func:`atomic_path`.  A job killed with
SIGKILL cannot remove its temporary file; the next :func:`atomic_path` for the
same output removes such leftovers (:func:`remove_stale_temporaries`), so a
rerun of the job cleans up after the killed one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The temporary file keeps the final suffix (so writers that infer a format
    from the extension still work) and is removed if the block raises.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final)
    # Keep the temporary name well under the file system's 255-byte limit even
    # for long sample names: a short prefix of the name, then the last suffix.
    fd, tmp_name = tempfile.mkstemp(
        prefix=_temporary_prefix(final), suffix=f".tmp{final.suffix}", dir=final.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates the file 0600; give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _temporary_prefix(final: Path) -> str:
    return f".{final.name[:80]}."


def stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Temporary files :func:`atomic_path` left beside ``path`` (a killed writer's).

    Only names of exactly the form ``atomic_path`` makes for this output
    match: ``.<name>.<8 random characters>.tmp<suffix>``.
    """
    final = Path(path)
    prefix = _temporary_prefix(final)
    suffix = f".tmp{final.suffix}"
    try:
        entries = list(os.scandir(final.parent))
    except OSError:
        return []
    out = []
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        middle = name[len(prefix) : len(name) - len(suffix)]
        # mkstemp's random part: 8 characters of [a-z0-9_].
        if len(middle) == 8 and all(c.isalnum() or c == "_" for c in middle):
            out.append(Path(entry.path))
    return out


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Remove what :func:`stale_temporaries` finds; return the removed paths.

    Two writers of one output never run at once in the workflow (Snakemake
    runs each job once), so a temporary of this output that exists when a
    new write starts belongs to a writer that died.
    """
    removed = []
    for tmp in stale_temporaries(path):
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_tsv(
    frame: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = True, na_rep: str = ""
) -> None:
    """Write ``frame`` as a tab-separated table, atomically.

    Floats are written with 10 significant digits (``%.10g``): far below any
    difference that matters for log2 expression or p-values, and stable, so
    the same data give byte-identical files.  Missing values are ``na_rep``.
    """
    with atomic_path(path) as tmp:
        if _plain_float_matrix(frame):
            _write_float_matrix(frame, tmp, index=index)
        else:
            frame.to_csv(
                tmp, sep="\t", index=index, float_format="%.10g", na_rep=na_rep, lineterminator="\n"
            )


#: Characters that make pandas quote a label (csv.QUOTE_MINIMAL with tab separators).
_QUOTED = ("\t", '"', "\n", "\r")


def _plain_float_matrix(frame: pd.DataFrame) -> bool:
    """A frame of finite-or-infinite float64 values (no NaN) with labels pandas writes as is."""
    if (
        frame.empty
        or isinstance(frame.index, pd.MultiIndex)
        or isinstance(frame.columns, pd.MultiIndex)
    ):
        return False
    if not all(dtype == np.float64 for dtype in frame.dtypes):
        return False
    labels = [frame.index.name, *frame.index, *frame.columns]
    if not all(isinstance(x, str) or x is None for x in labels):
        return False
    if any(c in x for x in labels if x for c in _QUOTED):
        return False
    return not np.isnan(frame.to_numpy()).any()


#: Rows converted to Python floats at a time (bounds the writer's memory).
_ROWS_PER_CHUNK = 4096


def _write_float_matrix(frame: pd.DataFrame, path: Path, *, index: bool) -> None:
    """What ``to_csv(sep="\t", float_format="%.10g")`` writes for a plain float matrix,
    byte for byte, formatting a row at a time (4x faster: the expression matrix
    of hundreds of arrays is millions of values), a few thousand rows at once."""
    matrix = frame.to_numpy()
    labels = list(frame.index)
    columns = [str(c) for c in frame.columns]
    first = [frame.index.name or ""] if index else []
    cells = "\t".join(["%.10g"] * len(columns))
    row = ("%s\t" + cells if index else cells) + "\n"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("\t".join([*first, *columns]) + "\n")
        for start in range(0, len(labels), _ROWS_PER_CHUNK):
            values = matrix[start : start + _ROWS_PER_CHUNK].tolist()
            if index:
                chunk = labels[start : start + _ROWS_PER_CHUNK]
                fh.writelines(row % (label, *v) for label, v in zip(chunk, values, strict=True))
            else:
                fh.writelines(row % tuple(v) for v in values)


def write_figure(fig, path: str | os.PathLike[str], **savefig_kwargs) -> None:
    """Save a matplotlib figure atomically; the format follows the file suffix."""
    fmt = Path(path).suffix.lstrip(".") or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, **savefig_kwargs)
