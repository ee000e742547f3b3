"""Named numpy arrays in one ``.npz`` file, written atomically and read without pickle."""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from sigrestore.atomic import atomic_path
from sigrestore.errors import FormatError

__all__ = ["read_npz", "write_npz"]


def write_npz(path: str | os.PathLike[str], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` (numbers, booleans, text; no Python objects) to ``path``."""
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise FormatError(f"{path}: array {name!r} holds Python objects; convert it first")
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **{k: np.asarray(v) for k, v in arrays.items()})


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file (object arrays refused: no pickle)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {name: z[name] for name in z.files}
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path}: not a readable .npz file ({exc})") from None
