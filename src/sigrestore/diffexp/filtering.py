"""Filter for probe sets not expressed on enough arrays (off by default).

Effect on the false discovery rate: the filter looks only at intensities, not
at the group labels, so for a probe set with no true difference it is
(approximately) independent of the moderated t statistic; the surviving null
p-values stay uniform and Benjamini-Hochberg still controls the FDR, now over
fewer tests, which usually gains power (Bourgon, Gentleman & Huber 2010, PNAS
107:9546).  Two caveats: a filter that uses the groups (for example "expressed
in the treated group") is *not* independent and inflates the FDR; and the
empirical-Bayes prior is estimated from the probe sets that remain, so the
moderated statistics of the kept probe sets change slightly too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sigrestore.errors import ConfigError

__all__ = ["filter_expressed"]


def filter_expressed(expr: pd.DataFrame, *, min_expr: float, min_samples: int) -> pd.DataFrame:
    """Keep probe sets with ``expr >= min_expr`` on at least ``min_samples`` arrays.

    Parameters
    ----------
    expr
        Features x arrays, log2 scale (missing values count as not expressed).
    min_expr
        Expression threshold on the log2 scale (e.g. a low quantile of the data).
    min_samples
        Number of arrays that must reach it; usually the size of the smallest
        group, so a gene expressed in one group only is kept.

    Returns
    -------
    pandas.DataFrame
        The rows of ``expr`` that pass, in their original order.
    """
    if not np.isfinite(min_expr):
        raise ConfigError(f"filter min_expr must be a finite number, got {min_expr!r}")
    if int(min_samples) != min_samples or not 1 <= min_samples <= expr.shape[1]:
        raise ConfigError(
            f"filter min_samples must be an integer between 1 and {expr.shape[1]} "
            f"(the number of arrays), got {min_samples!r}"
        )
    with np.errstate(invalid="ignore"):
        passing = (expr.to_numpy(dtype=float) >= min_expr).sum(axis=1) >= min_samples
    return expr.loc[passing]
