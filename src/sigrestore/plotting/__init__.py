"""Figures from the package's result objects (matplotlib, Agg backend).

Every function returns a :class:`matplotlib.figure.Figure`; saving is the
caller's job (see :func:`sigrestore.atomic.write_figure`).
"""

from __future__ import annotations

from .qc import (
    intensity_boxplots,
    intensity_densities,
    nuse_boxplots,
    residual_image,
    residual_images,
    rle_boxplots,
)
from .selection import PanelCap, PanelSelection, select_panels

__all__ = [
    "PanelCap",
    "PanelSelection",
    "intensity_boxplots",
    "intensity_densities",
    "nuse_boxplots",
    "residual_image",
    "residual_images",
    "rle_boxplots",
    "select_panels",
]
