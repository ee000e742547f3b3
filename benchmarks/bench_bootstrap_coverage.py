"""Coverage of the restored-fraction intervals on simulated experiments.

The array bootstrap with 2-3 arrays per group is biased (docs/restoration.md):
this script measures how often each interval contains the expected restored
fraction E[f] over independent simulated experiments (the bundled example's
design and planted truth, seeds 1000, 1001, ...), for the two ways of refitting
arrays drawn more than once (``bootstrap.duplicates``) and for the Wilson
interval.  Expression is simulated directly in log2 space (no probe level), so
the figures isolate the restoration statistics.

    python benchmarks/bench_bootstrap_coverage.py --noise 0.25 0.7 1.0 --experiments 12

With ``--counts`` the experiments are RNA-seq counts
(:mod:`sigrestore.simulate.counts`, negative binomial; ``--noise`` then
multiplies the dispersion trend, 1 = the simulator's default) analysed by the
count path (filterByExpr, TMM, voom), and the bootstrap refits through voom
(:class:`sigrestore.sources.counts.VoomRefit`).

    python benchmarks/bench_bootstrap_coverage.py --counts --noise 1 2 --experiments 12
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import time

import pandas as pd

from sigrestore.counts import calc_norm_factors, filter_by_expr, log_cpm
from sigrestore.diffexp import differential_expression
from sigrestore.restoration import ComparisonSpec, analyze_comparison
from sigrestore.simulate.counts import CountSpec, simulate_counts
from sigrestore.simulate.experiment import ExampleSpec, expression_matrix, plan_truth
from sigrestore.sources.counts import VoomRefit

FACTORS = ["cell_line", "treatment"]
CONTRASTS = {
    "reference": "sensitive_fulvestrant - sensitive_vehicle",
    "restoration": "resistant_fulvestrant_rapamycin - resistant_vehicle",
}


def array_experiment(noise: float, seed: int):
    """(expr, samples, de_function, tables) of one simulated array experiment."""
    spec = dataclasses.replace(ExampleSpec(), seed=1000 + seed, noise_sd=noise)
    expr, samples = expression_matrix(plan_truth(spec), spec)
    de = functools.partial(differential_expression, factors=FACTORS, contrasts=CONTRASTS)
    return expr, samples, de, de(expr, samples)


def count_experiment(noise: float, seed: int):
    """The same for a count experiment through filterByExpr, TMM and voom."""
    spec = CountSpec(
        design=dataclasses.replace(ExampleSpec(), seed=1000 + seed),
        phi_asymptote=0.015 * noise,
        phi_scale=0.6 * noise,
        seed=2000 + seed,
    )
    table, samples, _ = simulate_counts(spec)
    counts = table[samples["sample"]].to_numpy(dtype=float)
    groups = (samples["cell_line"] + "_" + samples["treatment"]).to_numpy()
    keep = filter_by_expr(counts, group=groups)
    kept = counts[keep]
    lib = kept.sum(axis=0)
    factors, _ = calc_norm_factors(kept, lib)
    frame = pd.DataFrame(kept, index=table.index[keep], columns=samples["sample"])
    effective = pd.Series(lib * factors, index=samples["sample"])
    refit = VoomRefit(frame, effective, factors=FACTORS, contrasts=CONTRASTS)
    expr = pd.DataFrame(
        log_cpm(kept, effective.to_numpy()), index=frame.index, columns=frame.columns
    )
    return expr, samples, refit, refit(expr, samples)


def one_experiment(noise: float, seed: int, resamples: int, counts: bool = False) -> list[dict]:
    make = count_experiment if counts else array_experiment
    expr, samples, de, tables = make(noise, seed)
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
        f"noise {noise}: E[f] = {expected:.3f} (sd {weights['f'].std():.3f}), "
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
    parser.add_argument("--counts", action="store_true", help="RNA-seq counts through voom")
    args = parser.parse_args(argv)
    print("command: python " + " ".join(sys.argv))
    print(f"{args.experiments} experiments per noise level, {args.resamples} resamples each")
    start = time.perf_counter()
    for noise in args.noise:
        rows = [
            row
            for seed in range(args.experiments)
            for row in one_experiment(noise, seed, args.resamples, args.counts)
        ]
        report(noise, pd.DataFrame(rows))
    print(f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
