"""Benchmark the count path against R edgeR + limma, side by side in one run.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_counts.py [--genes 60000] [--samples 200]
        [--repeats 1] [--no-r] [--keep DIR]

A simulated count table (:mod:`sigrestore.simulate.counts`: negative-binomial
counts, 8 groups, libraries of 10-40 million reads) is written as a plain TSV.
Each side then runs, in its own process (so peak memory is its own):

* read the table and the sample sheet;
* filterByExpr (group-aware), library sizes of the kept genes, TMM factors;
* voom with the group-means design;
* lmFit with voom's weights, contrasts.fit (3 contrasts), eBayes, one
  topTable per contrast.

Python: :func:`sigrestore.sources.counts.load_counts` then
:func:`sigrestore.diffexp.differential_expression` with the voom weights.
R: ``data.table::fread`` (or ``read.delim``), ``DGEList``, ``filterByExpr``,
``calcNormFactors``, ``voom``, ``lmFit``, ``contrasts.fit``, ``eBayes``,
``topTable``.  Times are wall-clock seconds of the whole sequence, best of
``--repeats`` (each repeat a fresh process); peak memory is the process's
maximum resident set size.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY_SCRIPT = r"""
import sys, time, json, resource
t0 = time.perf_counter()
import pandas as pd
from sigrestore.diffexp import differential_expression
from sigrestore.sources.counts import CountsSettings, load_counts
table, sheet_path = sys.argv[1], sys.argv[2]
contrasts = {
    "fulvestrant_sensitive": "sensitive_fulvestrant - sensitive_vehicle",
    "fulvestrant_resistant": "resistant_fulvestrant - resistant_vehicle",
    "cotreatment_resistant": "resistant_fulvestrant_rapamycin - resistant_vehicle",
}
t1 = time.perf_counter()
sheet = pd.read_csv(sheet_path, sep="\t")
ds = load_counts(CountsSettings(table=table, format="table"), sheet,
                 factors=["cell_line", "treatment"])
t2 = time.perf_counter()
tables = differential_expression(ds.expression, sheet, factors=["cell_line", "treatment"],
                                 contrasts=contrasts, weights=ds.weights)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "read_filter_tmm_voom": t2 - t1, "fit_ebayes_tables": t3 - t2,
                  "total": t3 - t1, "genes_kept": ds.shape[0],
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

R_SCRIPT = r"""
t0 <- proc.time()[["elapsed"]]
suppressPackageStartupMessages({library(edgeR); library(limma)})
args <- commandArgs(TRUE)
t1 <- proc.time()[["elapsed"]]
if (requireNamespace("data.table", quietly = TRUE)) {
  tab <- data.table::fread(args[1], sep = "\t", data.table = FALSE); reader <- "fread"
} else {
  tab <- read.delim(args[1], check.names = FALSE); reader <- "read.delim"
}
sheet <- read.delim(args[2])
counts <- as.matrix(tab[, sheet$sample]); rownames(counts) <- tab[[1]]
group <- factor(paste(sheet$cell_line, sheet$treatment, sep = "_"))
design <- model.matrix(~0 + group); colnames(design) <- levels(group)
y <- DGEList(counts, group = group)
keep <- filterByExpr(y, group = group)
y <- calcNormFactors(y[keep, , keep.lib.sizes = FALSE])
v <- voom(y, design)
t2 <- proc.time()[["elapsed"]]
cm <- makeContrasts(
  fulvestrant_sensitive = sensitive_fulvestrant - sensitive_vehicle,
  fulvestrant_resistant = resistant_fulvestrant - resistant_vehicle,
  cotreatment_resistant = resistant_fulvestrant_rapamycin - resistant_vehicle, levels = design)
fit <- eBayes(contrasts.fit(lmFit(v, design), cm))
tt <- lapply(colnames(cm), function(co) topTable(fit, coef = co, number = Inf, sort.by = "none"))
t3 <- proc.time()[["elapsed"]]
hwm <- as.numeric(sub("[^0-9]*([0-9]+).*", "\\1",
                      grep("^VmHWM", readLines("/proc/self/status"), value = TRUE))) / 1024
cat(sprintf(paste0('{"import": %.4f, "read_filter_tmm_voom": %.4f, "fit_ebayes_tables": %.4f, ',
                   '"total": %.4f, "genes_kept": %d, "reader": "%s", "maxrss_mb": %.1f}\n'),
            t1 - t0, t2 - t1, t3 - t2, t3 - t1, sum(keep), reader, hwm))
"""


def _run(cmd: list[str]) -> dict:
    """Run one side in its own process; its JSON result line."""
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed: {done.stderr.strip()[-800:]}")
    return json.loads([ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=60000)
    parser.add_argument("--samples", type=int, default=200, help="a multiple of 8")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--keep", type=Path, help="write the table here and keep it")
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}, "
        f"cpus={os.cpu_count()}"
    )

    from sigrestore.atomic import write_tsv
    from sigrestore.simulate.counts import CountSpec, simulate_counts
    from sigrestore.simulate.experiment import ExampleSpec

    reps = max(1, args.samples // 8)
    spec = CountSpec(
        design=dataclasses.replace(
            ExampleSpec(), n_probesets=args.genes, replicates=reps, signature_size=600, n_mtorc1=200
        )
    )
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench_counts_"))
    table, sheet = workdir / "counts.tsv", workdir / "samples.tsv"
    t0 = time.perf_counter()
    counts, samples, _ = simulate_counts(spec)
    write_tsv(counts, table, index=True)
    write_tsv(samples[["sample", "cell_line", "treatment", "replicate"]], sheet, index=False)
    print(
        f"simulated {counts.shape[0]} genes x {samples.shape[0]} samples "
        f"({table.stat().st_size / 1e6:.0f} MB TSV) in {time.perf_counter() - t0:.1f} s"
    )
    del counts

    py_runs, r_runs = [], []
    for _ in range(args.repeats):
        py_runs.append(_run([sys.executable, "-c", PY_SCRIPT, str(table), str(sheet)]))
        if not args.no_r and shutil.which("Rscript"):
            script = workdir / "bench_counts.R"
            script.write_text(R_SCRIPT)
            r_runs.append(_run(["Rscript", str(script), str(table), str(sheet)]))
    best_py = min(py_runs, key=lambda x: x["total"])
    print(f"python: genes kept {best_py['genes_kept']}")
    rows = ["read_filter_tmm_voom", "fit_ebayes_tables", "total"]
    if r_runs:
        best_r = min(r_runs, key=lambda x: x["total"])
        print(f"R ({best_r['reader']}): genes kept {best_r['genes_kept']}")
        print(f"{'step':<24}{'python s':>10}{'R s':>10}{'R/python':>10}")
        for key in rows:
            p, r = best_py[key], best_r[key]
            print(f"{key:<24}{p:>10.2f}{r:>10.2f}{r / p:>10.2f}")
        print(f"{'peak memory MB':<24}{best_py['maxrss_mb']:>10.0f}{best_r['maxrss_mb']:>10.0f}")
    else:
        for key in rows:
            print(f"{key:<24}{best_py[key]:>10.2f}")
        print(f"{'peak memory MB':<24}{best_py['maxrss_mb']:>10.0f}")
    print(
        f"(library import, not in the totals: python {best_py['import']:.2f} s"
        + (f", R {best_r['import']:.2f} s)" if r_runs else ")")
    )
    if args.keep is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
