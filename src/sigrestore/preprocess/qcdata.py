"""The data behind the probe-level QC figures as plain arrays (no pickle).

:func:`qc_arrays` turns an :class:`~sigrestore.preprocess.RmaResult` into a
mapping of numpy arrays (numbers, booleans and text only), which the workflow
stores with :func:`sigrestore.io.npz.write_npz`; :func:`qc_data` rebuilds from
it an object with the attributes :mod:`sigrestore.plotting.qc` reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sigrestore.errors import FormatError
from sigrestore.preprocess.qc import ResidualImages

__all__ = ["QCData", "qc_arrays", "qc_data"]

#: The tables of an RmaResult the QC figures use.
QC_FRAMES = (
    "raw_stats",
    "normalized_stats",
    "raw_density",
    "normalized_density",
    "rle_stats",
    "nuse_stats",
    "qc",
)


@dataclass(frozen=True)
class QCData:
    """What the QC figures read from an RMA run (the fields of RmaResult they use).

    ``expression`` has the arrays as columns and no rows: the figures take only
    the sample names from it.
    """

    expression: pd.DataFrame
    raw_stats: pd.DataFrame
    normalized_stats: pd.DataFrame
    raw_density: pd.DataFrame
    normalized_density: pd.DataFrame
    rle_stats: pd.DataFrame
    nuse_stats: pd.DataFrame
    qc: pd.DataFrame
    residual_images: ResidualImages | None


def _plain(values: np.ndarray) -> np.ndarray:
    # Text (object) columns become fixed-width unicode: loadable without pickle.
    return values.astype(str) if values.dtype == object else values


def _frame_arrays(name: str, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    out = {
        f"{name}.index": _plain(np.asarray(frame.index)),
        f"{name}.index_name": np.array(frame.index.name or ""),
        f"{name}.columns": np.array([str(c) for c in frame.columns], dtype=str),
    }
    for i, column in enumerate(frame.columns):
        out[f"{name}.{i}"] = _plain(frame[column].to_numpy())
    return out


def _frame(name: str, arrays: Mapping[str, np.ndarray]) -> pd.DataFrame:
    try:
        columns = [str(c) for c in arrays[f"{name}.columns"]]
        index = pd.Index(arrays[f"{name}.index"], name=str(arrays[f"{name}.index_name"]) or None)
        data = {c: arrays[f"{name}.{i}"] for i, c in enumerate(columns)}
    except KeyError as exc:
        raise FormatError(f"QC data: table {name!r} is incomplete (no {exc.args[0]!r})") from None
    return pd.DataFrame(data, index=index, columns=columns)


def qc_arrays(result) -> dict[str, np.ndarray]:
    """The QC tables and residual images of an RMA result as named arrays."""
    out: dict[str, np.ndarray] = {
        "samples": np.array([str(c) for c in result.expression.columns], dtype=str)
    }
    for name in QC_FRAMES:
        out.update(_frame_arrays(name, getattr(result, name)))
    images = result.residual_images
    if images is not None:
        out["residual.images"] = images.images
        out["residual.shape"] = np.array([images.bin, images.rows, images.cols], dtype=np.int64)
    return out


def qc_data(arrays: Mapping[str, np.ndarray]) -> QCData:
    """The inverse of :func:`qc_arrays`."""
    if "samples" not in arrays:
        raise FormatError("QC data: no sample names")
    images = None
    if "residual.images" in arrays:
        b, rows, cols = (int(x) for x in arrays["residual.shape"])
        images = ResidualImages(
            images=np.asarray(arrays["residual.images"]), bin=b, rows=rows, cols=cols
        )
    return QCData(
        expression=pd.DataFrame(columns=[str(s) for s in arrays["samples"]]),
        residual_images=images,
        **{name: _frame(name, arrays) for name in QC_FRAMES},
    )
