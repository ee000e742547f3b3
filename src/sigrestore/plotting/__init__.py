"""Figures from the package's result objects (matplotlib, Agg backend).

Every function returns a :class:`matplotlib.figure.Figure`; saving is the
caller's job (see :func:`sigrestore.plotting.save.save_figure`).

The names below are imported on first use: ``sigrestore.plotting.selection``
(the QC panel cap, part of the typed settings every workflow job resolves at
parse time) must not pull in matplotlib (about 2 s per job).
"""

from __future__ import annotations

from sigrestore._lazy import lazy_getattr

#: Exported name -> submodule that defines it.
_EXPORTS = {
    "intensity_boxplots": "qc",
    "intensity_densities": "qc",
    "nuse_boxplots": "qc",
    "residual_image": "qc",
    "residual_images": "qc",
    "rle_boxplots": "qc",
    "PanelCap": "selection",
    "PanelSelection": "selection",
    "select_panels": "selection",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
