"""Coverage of the restored-fraction intervals on simulated experiments.

The array bootstrap with 2-3 arrays per group is biased (docs/restoration.md):
this script measures how often each interval contains the expected restored
fraction E[f] over independent simulated experiments (the bundled example's
design and planted truth, seeds 1000, 1001, ...), for the two ways of refitting
arrays drawn more than once (``bootstrap.duplicates``) and for the Wilson
interval.  Expression is simulated directly in log2 space (no probe level), so
the figures isolate the restoration statistics.

    python benchmarks/bench_bootstrap_coverage.py --noise 0.25 0.7 1.0 --experiments 12
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import time

import pandas as pd

from sigrestore.diffexp import differential_expression
from sigrestore.restoration import ComparisonSpec, analyze_comparison
from sigrestore.simulate.experiment import ExampleSpec, expression_matrix, plan_truth

FACTORS = ["cell_line", "treatment"]
CONTRASTS = {
    "reference": "sensitive_fulvestrant - sensitive_vehicle",
    "restoration": "resistant_fulvestrant_rapamycin - resistant_vehicle",
}


def one_experiment(noise: float, seed: int, resamples: int) -> list[dict]:
    spec = dataclasses.replace(ExampleSpec(), seed=1000 + seed, noise_sd=noise)
    expr, samples = expression_matrix(plan_truth(spec), spec)
    de = functools.partial(differential_expression, factors=FACTORS, contrasts=CONTRASTS)
    tables = de(expr, samples)
    rows = []
    for mode in ("weights", "copies"):
        comparison = ComparisonSpec.from_dict(
            {
                "name": "coverage",
                "reference": "reference",
                "restoration": "restoration",
                "bootstrap": {"n": resamples, "seed": seed, "duplicates": mode},
                "connectivity": {"permutations": 10, "seed": seed},
            }
        )
        result = analyze_comparison(
            tables, comparison, expr=expr, samples=samples, de_function=de, factors=FACTORS
        )
        s = result.summary.iloc[0]
        rows.append(
            {
                "mode": mode,
                "f": s.restored_fraction,
                "size": s.signature_size,
                "low": s.bootstrap_low,
                "high": s.bootstrap_high,
                "wilson_low": s.ci_low,
                "wilson_high": s.ci_high,
                "boot_mean": s.bootstrap_mean,
            }
        )
    return rows


def report(noise: float, frame: pd.DataFrame) -> None:
    weights = frame[frame["mode"] == "weights"]
    expected = weights["f"].mean()
    print(
        f"noise sd {noise}: E[f] = {expected:.3f} (sd {weights['f'].std():.3f}), "
        f"mean |S| = {weights['size'].mean():.0f}"
    )
    print(f"  {'interval':18s} {'covers E[f]':>11s} {'covers f':>9s} {'width':>7s} {'bias':>7s}")
    for mode, g in frame.groupby("mode"):
        covers = ((g["low"] <= expected) & (expected <= g["high"])).mean()
        own = ((g["low"] <= g["f"]) & (g["f"] <= g["high"])).mean()
        width = (g["high"] - g["low"]).mean()
        bias = (g["boot_mean"] - g["f"]).mean()
        label = f"bootstrap {mode}"
        print(f"  {label:18s} {covers:11.2f} {own:9.2f} {width:7.3f} {bias:+7.3f}")
    covers = ((weights["wilson_low"] <= expected) & (expected <= weights["wilson_high"])).mean()
    width = (weights["wilson_high"] - weights["wilson_low"]).mean()
    print(f"  {'Wilson':18s} {covers:11.2f} {'':9s} {width:7.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, nargs="+", default=[0.25, 0.7, 1.0])
    parser.add_argument("--experiments", type=int, default=12)
    parser.add_argument("--resamples", type=int, default=60)
    args = parser.parse_args(argv)
    print("command: python " + " ".join(sys.argv))
    print(f"{args.experiments} experiments per noise level, {args.resamples} resamples each")
    start = time.perf_counter()
    for noise in args.noise:
        rows = [
            row
            for seed in range(args.experiments)
            for row in one_experiment(noise, seed, args.resamples)
        ]
        report(noise, pd.DataFrame(rows))
    print(f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
