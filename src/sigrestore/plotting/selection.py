"""Which arrays get a panel in per-array figures (residual images, MA plots).

Up to :attr:`PanelCap.max_panels` arrays every array is drawn.  Above it a
figure of hundreds of small panels is slow to draw, megabytes of SVG and
unreadable, so a capped selection is drawn instead:

1. the arrays flagged as outliers by the QC table (worst first), then
2. the remaining arrays with the highest figure-specific score (the most
   suspicious-looking ones: for residual images the spatial spread of the
   residuals, for MA plots the spread and offset of M),

``max_panels`` panels in all, shown in the arrays' original order.  Every
array's numbers stay in the QC table (``array_quality.tsv``); the figure's
title says how many arrays it shows and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sigrestore.errors import ConfigError

__all__ = ["PanelCap", "PanelSelection", "select_panels"]


@dataclass(frozen=True)
class PanelCap:
    """Cap on the number of per-array panels in one figure.

    Attributes
    ----------
    max_panels
        Above this many arrays draw a selection of ``max_panels`` panels
        (flagged outliers first, then the highest-scoring arrays).
    """

    max_panels: int = 36

    def __post_init__(self) -> None:
        if isinstance(self.max_panels, bool) or not isinstance(self.max_panels, int | np.integer):
            raise ConfigError(
                f"qc panel cap: max_panels must be an integer, got {self.max_panels!r}"
            )
        if self.max_panels < 1:
            raise ConfigError(f"qc panel cap: max_panels must be at least 1, got {self.max_panels}")


@dataclass(frozen=True)
class PanelSelection:
    """The arrays a figure draws.

    Attributes
    ----------
    positions
        Column positions of the drawn arrays, in the arrays' order.
    n_total
        How many arrays there are.
    n_flagged
        How many of the drawn arrays are flagged outliers.
    """

    positions: np.ndarray
    n_total: int
    n_flagged: int

    @property
    def complete(self) -> bool:
        """Whether every array is drawn."""
        return self.positions.size == self.n_total

    def caption(self, score: str) -> str:
        """A title suffix saying what the figure shows (empty when complete)."""
        if self.complete:
            return ""
        return (
            f" ({self.positions.size} of {self.n_total} arrays: {self.n_flagged} flagged "
            f"outlier(s), then the highest {score})"
        )


def select_panels(
    scores: Sequence[float] | np.ndarray,
    flagged: Sequence[bool] | np.ndarray | None = None,
    cap: PanelCap | None = None,
) -> PanelSelection:
    """Choose the arrays to draw.

    Parameters
    ----------
    scores
        One score per array; higher means more suspicious (NaN counts lowest).
    flagged
        One flag per array (QC outlier); flagged arrays are drawn first.
    cap
        The cap (default :class:`PanelCap` ()).

    Returns
    -------
    PanelSelection
    """
    cap = cap or PanelCap()
    s = np.asarray(scores, dtype=float)
    n = s.size
    f = np.zeros(n, dtype=bool) if flagged is None else np.asarray(flagged, dtype=bool)
    if f.shape != (n,):
        raise ValueError(f"select_panels: {f.size} flags for {n} scores")
    if n <= cap.max_panels:
        return PanelSelection(np.arange(n), n, int(f.sum()))
    # Rank: flagged before unflagged, then by descending score, NaN last, ties by position.
    key = np.where(np.isnan(s), -np.inf, s)
    ranked = np.lexsort((np.arange(n), -key, ~f))
    chosen = np.sort(ranked[: cap.max_panels])
    return PanelSelection(chosen, n, int(f[chosen].sum()))
