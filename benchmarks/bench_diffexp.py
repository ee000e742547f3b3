"""Benchmark sigrestore.diffexp against R limma, side by side in one run.

Usage::

    python benchmarks/bench_diffexp.py [--repeats 5] [--no-r] [--skip-large] [--r-dupcor]
    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_diffexp.py   # single-threaded BLAS

Cases (each timed as the best and median of ``--repeats`` runs, input already
in memory, so file reading is not timed on either side):

1. bladderbatch fixture (22,283 probe sets x 57 arrays, ``~0 + group + batch``,
   2 contrasts) from ``../shared/fixtures/limma`` (skipped if absent):
   lmFit + contrasts.fit + eBayes, then both tables (topTable in R).
2. The same through :func:`differential_expression` (design and contrasts
   built from the sample sheet each call, as the restoration bootstrap does).
3. Simulated 54,675 probe sets x 500 arrays (4 groups, 2 contrasts); R runs on
   its own simulated matrix of the same size.
4. Simulated 54,675 x 12 arrays (the reference study's size) through
   :func:`differential_expression`: the cost of one bootstrap replicate.
5. The fixture with eBayes(trend = TRUE, robust = TRUE), and with a missing
   value in every 37th probe set (lmFit's gene-wise path).
6. duplicateCorrelation with a block on the fixture (Python only by default;
   ``--r-dupcor`` times R too, which takes about a minute).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sigrestore.diffexp import (
    build_design,
    differential_expression,
    duplicate_correlation,
    fit_contrasts,
    make_contrasts,
)

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "limma"
CONTRASTS = {"CancerVsNormal": "Cancer - Normal", "BiopsyVsNormal": "Biopsy - Normal"}

R_SCRIPT = r"""
suppressMessages(library(limma))
args <- commandArgs(TRUE); repeats <- as.integer(args[1]); what <- args[2]
timeit <- function(label, f, n = repeats) {
  if (n > 1) f()  # warm-up, as on the Python side
  el <- sapply(seq_len(n), function(i) { t0 <- proc.time()[["elapsed"]]; f()
                                               proc.time()[["elapsed"]] - t0 })
  cat(sprintf("R\t%s\t%.6f\t%.6f\n", label, min(el), median(el)))
}
if (what %in% c("fixture", "all")) {
  x <- as.matrix(read.delim(gzfile(file.path(args[3], "bladder_expr.tsv.gz")), row.names = 1,
                            check.names = FALSE))
  p <- read.delim(file.path(args[3], "bladder_samples.tsv"))
  cancer <- factor(p$group); batch <- factor(p$batch)
  design <- model.matrix(~0 + cancer + batch); colnames(design) <- make.names(colnames(design))
  cm <- makeContrasts(CancerVsNormal = cancerCancer - cancerNormal,
                      BiopsyVsNormal = cancerBiopsy - cancerNormal, levels = design)
  timeit("fixture_fit", function() eBayes(contrasts.fit(lmFit(x, design), cm)))
  timeit("fixture_fit_tables", function() {
    e <- eBayes(contrasts.fit(lmFit(x, design), cm))
    for (co in colnames(cm)) topTable(e, coef = co, number = Inf, sort.by = "none") })
  timeit("fixture_trend_robust", function()
    eBayes(contrasts.fit(lmFit(x, design), cm), trend = TRUE, robust = TRUE))
  xm <- x; xm[seq(1, nrow(x), by = 37), 1] <- NA
  timeit("fixture_missing", function() eBayes(contrasts.fit(lmFit(xm, design), cm)))
  if (length(args) >= 4 && args[4] == "dupcor") {
    d0 <- model.matrix(~0 + cancer)
    timeit("fixture_dupcor", function() duplicateCorrelation(x, d0, block = batch), 1)
  }
}
if (what %in% c("large", "all")) {
  set.seed(1)
  n <- 54675; m <- 500
  y <- matrix(rnorm(n * m, 8, 1), n, m)
  g <- factor(rep(c("a", "b", "c", "d"), length.out = m))
  design <- model.matrix(~0 + g)
  cm <- makeContrasts(ab = ga - gb, cd = gc - gd, levels = design)
  timeit("large_fit_tables", function() {
    e <- eBayes(contrasts.fit(lmFit(y, design), cm))
    for (co in colnames(cm)) topTable(e, coef = co, number = Inf, sort.by = "none") })
}
"""


def timeit(fn, repeats: int) -> tuple[float, float]:
    if repeats > 1:
        fn()  # warm-up (imports, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def run_r(repeats: int, what: str, dupcor: bool) -> dict[str, tuple[float, float]]:
    rscript = shutil.which("Rscript")
    if rscript is None:
        print("Rscript not found: R side skipped")
        return {}
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(R_SCRIPT)
    cmd = [rscript, fh.name, str(repeats), what, str(FIXTURE)] + (["dupcor"] if dupcor else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    Path(fh.name).unlink()
    if done.returncode != 0:
        print("R failed:", done.stderr.strip()[-500:])
        return {}
    out = {}
    for line in done.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] == "R":
            out[parts[1]] = (float(parts[2]), float(parts[3]))
    return out


def report(label: str, py: tuple[float, float], r: tuple[float, float] | None) -> None:
    line = f"{label:<58s} python {py[0]:8.3f} s (median {py[1]:.3f})"
    if r is not None:
        line += f" | R {r[0]:8.3f} s (median {r[1]:.3f}) | R/python {r[0] / py[0]:6.1f}x"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-r", action="store_true", help="do not run R")
    parser.add_argument("--skip-large", action="store_true", help="skip 54,675 x 500")
    parser.add_argument("--r-dupcor", action="store_true", help="time R duplicateCorrelation")
    args = parser.parse_args()
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    # Skinny matrix products are slowed down badly by multi-threaded BLAS on a
    # busy machine; compare with OPENBLAS_NUM_THREADS=1 as well.
    print(f"OPENBLAS_NUM_THREADS={threads}, cpus={os.cpu_count()}")
    have_fixture = (FIXTURE / "bladder_expr.tsv.gz").is_file()
    what = (
        "all" if have_fixture and not args.skip_large else ("fixture" if have_fixture else "large")
    )
    if args.skip_large and not have_fixture:
        what = "none"
    r = {} if args.no_r or what == "none" else run_r(args.repeats, what, args.r_dupcor)

    if have_fixture:
        expr = pd.read_csv(FIXTURE / "bladder_expr.tsv.gz", sep="\t", index_col=0)
        samples = pd.read_csv(FIXTURE / "bladder_samples.tsv", sep="\t")
        design = build_design(samples, factors=["group"], covariates=["C(batch)"])
        cm = make_contrasts(CONTRASTS, design)
        print(f"fixture: {expr.shape[0]} probe sets x {expr.shape[1]} arrays")
        report(
            "fixture: lmFit + contrasts.fit + eBayes",
            timeit(lambda: fit_contrasts(expr, design, cm), args.repeats),
            r.get("fixture_fit"),
        )

        def fit_tables():
            fit = fit_contrasts(expr, design, cm)
            return [fit.table(c) for c in CONTRASTS]

        report(
            "fixture: ... + both tables (topTable)",
            timeit(fit_tables, args.repeats),
            r.get("fixture_fit_tables"),
        )

        def one_call():
            return differential_expression(
                expr, samples, factors=["group"], covariates=["C(batch)"], contrasts=CONTRASTS
            )

        report(
            "fixture: differential_expression (design+contrasts+tables)",
            timeit(one_call, args.repeats),
            r.get("fixture_fit_tables"),
        )
        report(
            "fixture: ... eBayes(trend = TRUE, robust = TRUE)",
            timeit(lambda: fit_contrasts(expr, design, cm, trend=True, robust=True), args.repeats),
            r.get("fixture_trend_robust"),
        )
        holes = expr.copy()
        holes.iloc[::37, 0] = np.nan
        report(
            "fixture: lmFit ... eBayes with missing values",
            timeit(lambda: fit_contrasts(holes, design, cm), args.repeats),
            r.get("fixture_missing"),
        )
        groups = build_design(samples, factors=["group"]).matrix.to_numpy()
        y = expr.to_numpy()
        report(
            "fixture: duplicateCorrelation(block = batch)",
            timeit(lambda: duplicate_correlation(y, groups, samples["batch"].to_numpy()), 1),
            r.get("fixture_dupcor"),
        )
    else:
        print(f"shared fixture {FIXTURE} not found: fixture cases skipped")

    rng = np.random.default_rng(1)
    if not args.skip_large:
        n, m = 54675, 500
        big = pd.DataFrame(rng.normal(8.0, 1.0, (n, m)))
        sheet = pd.DataFrame({"sample": [f"s{i}" for i in range(m)], "g": list("abcd") * (m // 4)})
        big.columns = sheet["sample"]
        report(
            f"simulated {n} x {m}: fit + eBayes + 2 tables",
            timeit(
                lambda: differential_expression(
                    big, sheet, factors=["g"], contrasts={"ab": "a - b", "cd": "c - d"}
                ),
                max(1, args.repeats // 2),
            ),
            r.get("large_fit_tables"),
        )
        del big
    n, m = 54675, 12
    small = pd.DataFrame(rng.normal(8.0, 1.0, (n, m)))
    sheet = pd.DataFrame(
        {"sample": [f"s{i}" for i in range(m)], "cell": ["S"] * 6 + ["R"] * 6,
         "trt": ["veh", "veh", "veh", "drug", "drug", "drug"] * 2}
    )  # fmt: skip
    contrasts = {"sig": "S_drug - S_veh", "rest": "R_drug - R_veh"}
    report(
        f"simulated {n} x {m}: one bootstrap replicate (2 contrasts)",
        timeit(
            lambda: differential_expression(
                small, sheet, factors=["cell", "trt"], contrasts=contrasts
            ),
            args.repeats * 4,
        ),
        None,
    )


if __name__ == "__main__":
    main()
