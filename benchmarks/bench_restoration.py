"""Benchmark of the restoration analysis: the array bootstrap and the connectivity score.

Simulates an experiment (default 10,000 features x 24 arrays: 8 groups of 3)
and times, in one run:

- one differential-expression fit (sigrestore.diffexp, limma's model),
- the bootstrap of the restored fraction (default 200 resamples), i.e. that
  many refits plus the calls, and its overhead over the bare refits,
- the connectivity score (gseapy prerank of S-up and S-down),
- the whole analyze_comparison.

Run: ``python benchmarks/bench_restoration.py [--features N] [--reps R] [--resamples B]``.
"""

from __future__ import annotations

import argparse
import functools
import shlex
import sys
import time

import numpy as np
import pandas as pd

from sigrestore.restoration import (
    ComparisonSpec,
    analyze_comparison,
    bootstrap_fraction,
    connectivity_score,
    sample_groups,
)

GROUPS = [
    "S_veh",
    "S_fulv",
    "S_rapa",
    "S_combo",
    "R_veh",
    "R_fulv",
    "R_rapa",
    "R_combo",
]
CONTRASTS = {
    "fulv_S": "S_fulv - S_veh",
    "fulv_R": "R_fulv - R_veh",
    "rapa_R": "R_rapa - R_veh",
    "combo_R": "R_combo - R_veh",
}


def simulate(n_features: int, reps: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    samples = pd.DataFrame(
        {
            "sample": [f"{g}_{i}" for g in GROUPS for i in range(reps)],
            "group": [g for g in GROUPS for _ in range(reps)],
        }
    )
    n_sig = n_features // 20
    effect = np.zeros((n_features, len(GROUPS)))
    sig = np.where(np.arange(n_sig) % 2 == 0, 1.5, -1.5)
    effect[:n_sig, GROUPS.index("S_fulv")] = sig
    effect[: n_sig // 2, GROUPS.index("R_fulv")] = sig[: n_sig // 2]
    restored = int(0.4 * n_sig)
    effect[:restored, GROUPS.index("R_combo")] = sig[:restored]
    x = rng.normal(8, 1.5, size=(n_features, 1)) + np.repeat(effect, reps, axis=1)
    x += rng.normal(0, 0.35, size=x.shape)
    expr = pd.DataFrame(
        x, index=[f"p{i:05d}" for i in range(n_features)], columns=samples["sample"]
    )
    return expr, samples


def timed(fn, repeat: int = 1):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3, help="arrays per group (8 groups)")
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--permutations", type=int, default=1000)
    args = parser.parse_args(argv)
    print("command:", shlex.join([sys.executable, *sys.argv]))

    from sigrestore.diffexp import differential_expression

    expr, samples = simulate(args.features, args.reps)
    print(f"experiment: {expr.shape[0]} features x {expr.shape[1]} arrays, {len(GROUPS)} groups")
    de = functools.partial(differential_expression, factors=["group"], contrasts=CONTRASTS)
    de(expr, samples)  # warm-up (imports, caches)
    t_fit, tables = timed(lambda: de(expr, samples), repeat=3)
    spec = ComparisonSpec.from_dict(
        {
            "name": "bench",
            "reference": "fulv_S",
            "restoration": "combo_R",
            "resistance": "fulv_R",
            "modulator": "rapa_R",
            "bootstrap": {"n": args.resamples, "seed": 1},
            "connectivity": {"permutations": args.permutations, "seed": 1},
        }
    )
    groups = sample_groups(samples, factors=["group"])
    t_boot, boot = timed(
        lambda: bootstrap_fraction(expr, samples, spec, de_function=de, groups=groups)
    )
    ref = tables["fulv_S"]
    up = ref.index[(ref["adj.P.Val"] < 0.05) & (ref["logFC"] >= 1)].tolist()
    down = ref.index[(ref["adj.P.Val"] < 0.05) & (ref["logFC"] <= -1)].tolist()
    t_conn, conn = timed(
        lambda: connectivity_score(
            tables["combo_R"]["t"], up, down, permutations=args.permutations, seed=1
        ),
        repeat=3,
    )
    no_boot = ComparisonSpec.from_dict(
        {
            "name": "bench",
            "reference": "fulv_S",
            "restoration": "combo_R",
            "resistance": "fulv_R",
            "modulator": "rapa_R",
            "bootstrap": {"n": 0},
            "connectivity": {"permutations": args.permutations, "seed": 1},
        }
    )
    t_calls, result = timed(lambda: analyze_comparison(tables, no_boot), repeat=3)

    per = t_boot / args.resamples
    print(f"|S| = {len(up) + len(down)} ({len(up)} up, {len(down)} down)")
    print(
        f"restored fraction {result.summary['restored_fraction'].iloc[0]:.3f}, bootstrap "
        f"interval [{boot['restored_fraction'].quantile(0.025):.3f}, "
        f"{boot['restored_fraction'].quantile(0.975):.3f}]"
    )
    print()
    print(f"{'step':<44}{'seconds':>10}")
    print(f"{'one limma fit (4 contrasts), best of 3':<44}{t_fit:>10.3f}")
    print(f"{f'bootstrap, {args.resamples} resamples':<44}{t_boot:>10.2f}")
    print(f"{'  per resample':<44}{per:>10.3f}")
    print(f"{f'connectivity (gseapy, {args.permutations} permutations)':<44}{t_conn:>10.3f}")
    print(f"{'analyze_comparison without bootstrap':<44}{t_calls:>10.3f}")
    print()
    print(f"ratio per-resample / one fit: {per / t_fit:.2f} (overhead of resampling and calls)")
    print(f"ratio bootstrap / rest of the analysis: {t_boot / t_calls:.1f}")
    print(f"connectivity score {conn['score']:.3f}, p {conn['p']:.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
