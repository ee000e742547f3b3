"""CMap/LINCS connectivity of the signature with a contrast's ranking, via gseapy prerank.

The signature's up part (S-up) and down part (S-down) are two gene sets
scored in one gseapy prerank run against the restoration contrast ranked by
moderated t (weight 1: the weighted Kolmogorov-Smirnov enrichment score of
LINCS).  Their enrichment scores are combined as LINCS's weighted connectivity
score::

    score = (ES_up - ES_down) / 2   if sign(ES_up) != sign(ES_down)
    score = 0                       otherwise

Positive: the contrast moves S the way the reference did (restoration);
negative: it opposes it.

p-value: gseapy gives a nominal permutation p-value for each set (gene-set
permutations, one-sided in the direction of the observed ES).  A non-zero score
needs both sets enriched with opposite signs, so the combined p-value is the
intersection-union test ``p = max(p_up, p_down)`` (a valid level-alpha test of
"both are enriched"); it is 1 when the score is 0 by the sign rule.  gseapy
reports 0 when no permutation reached the observed ES, i.e. ``p < 1/permutations``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sigrestore.enrichment import run_prerank

SET_UP, SET_DOWN = "S_up", "S_down"


def combine_scores(es_up: float, es_down: float, p_up: float, p_down: float) -> tuple[float, float]:
    """The connectivity score and its p-value from the two sets' ES and p-values.

    NaN (score and p) when either ES is missing (an empty side of the signature).
    """
    if not (np.isfinite(es_up) and np.isfinite(es_down)):
        return float("nan"), float("nan")
    if es_up * es_down < 0:
        return (es_up - es_down) / 2.0, float(max(p_up, p_down))
    return 0.0, 1.0


def connectivity_score(
    ranking: pd.Series,
    up: Sequence[str],
    down: Sequence[str],
    *,
    permutations: int = 200,
    seed: int = 20080601,
) -> dict:
    """Connectivity of a signature (``up``, ``down`` feature ids) with ``ranking``.

    Parameters
    ----------
    ranking : Series
        Moderated t (or any statistic) per feature id; NaN entries are dropped.
    up, down : sequence of str
        S-up and S-down; ids absent from the ranking are ignored.
    permutations, seed : int
        gseapy's gene-set permutations (0: no p-values) and seed.

    Returns
    -------
    dict with ``score``, ``p`` (see the module docstring), and per side
    ``es_up``/``es_down``, ``nes_up``/``nes_down``, ``p_up``/``p_down``,
    ``size_up``/``size_down`` (ids found in the ranking), ``running_up``/
    ``running_down`` (gseapy's running enrichment score, np.ndarray over the
    sorted ranking), ``hits_up``/``hits_down`` (positions in the sorted
    ranking), and ``ranking`` (the sorted ranking gseapy used).
    """
    sets = {SET_UP: [str(g) for g in up], SET_DOWN: [str(g) for g in down]}
    rnk, results = run_prerank(
        ranking,
        sets,
        permutations=permutations,
        seed=seed,
        min_size=1,
        max_size=len(ranking),
    )
    out: dict = {"ranking": rnk}
    for key, term in (("up", SET_UP), ("down", SET_DOWN)):
        r = results.get(term)
        if r is None:
            out |= {
                f"es_{key}": np.nan,
                f"nes_{key}": np.nan,
                f"p_{key}": np.nan,
                f"size_{key}": 0,
                f"running_{key}": np.full(len(rnk), np.nan),
                f"hits_{key}": [],
            }
            continue
        out |= {
            f"es_{key}": float(r["es"]),
            f"nes_{key}": float(r["nes"]),
            f"p_{key}": float(r["pval"]) if permutations > 0 else np.nan,
            f"size_{key}": len(r["hits"]),
            f"running_{key}": np.asarray(r["RES"], dtype=float),
            f"hits_{key}": [int(h) for h in r["hits"]],
        }
    score, p = combine_scores(out["es_up"], out["es_down"], out["p_up"], out["p_down"])
    if permutations == 0:
        p = float("nan")
    out["score"] = score
    out["p"] = p
    return out
