"""The one way the package saves a figure: atomically, in every format asked for,
with reproducible bytes.

Reruns give identical files: no dates or software versions in the metadata,
and a fixed SVG hash salt (set for the save only, through
:func:`matplotlib.rc_context`, so importing the package changes no global
matplotlib state).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import matplotlib as mpl
from matplotlib.figure import Figure

from sigrestore.atomic import write_figure

__all__ = ["DEFAULT_FIGURE_FORMATS", "FIGURE_FORMATS", "save_figure"]

#: The formats a workflow figure can be written in (config ``figures.formats``).
FIGURE_FORMATS = ("png", "svg", "pdf")
#: The formats written by default (the schema's ``figures.formats``).
DEFAULT_FIGURE_FORMATS = ("png",)

_METADATA = {
    "svg": {"Date": None},
    "png": {"Software": None},
    "pdf": {"CreationDate": None},
}
_RC = {"svg.hashsalt": "sigrestore", "svg.fonttype": "path"}


def save_figure(
    fig: Figure,
    paths: Iterable[str | os.PathLike[str]],
    *,
    dpi: int = 150,
    tight: bool | None = None,
    close: bool = True,
) -> list[str | os.PathLike[str]]:
    """Write ``fig`` to every path (format from the suffix), atomically.

    Parameters
    ----------
    fig : Figure
    paths : iterable of path
        One file per format, e.g. ``snakemake.output`` entries.
    dpi : int
        Resolution of raster formats.
    tight : bool, optional
        Crop to the drawn area (``bbox_inches="tight"``).  By default only a
        figure without a layout engine is cropped: a constrained layout already
        fits the figure, and the crop costs a second layout pass (a fifth of
        the saving time of the large QC figures).
    close : bool
        Close the figure afterwards (frees pyplot-managed figures).

    Returns
    -------
    list
        The paths written, in order.
    """
    written = []
    if tight is None:
        tight = fig.get_layout_engine() is None
    extra = {"bbox_inches": "tight"} if tight else {}
    try:
        with mpl.rc_context(_RC):
            for path in paths:
                fmt = os.fspath(path).rsplit(".", 1)[-1].lower()
                write_figure(fig, path, dpi=dpi, metadata=_METADATA.get(fmt), **extra)
                written.append(path)
    finally:
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
    return written
