"""Benchmark: read + RMA of HG-U133A-size arrays, against R's affy::rma.

Writes synthetic arrays (sigrestore.simulate.chip, 22,283 probe sets x 11
PM/MM pairs on 712 x 712 cells) with the package's own CDF/CEL writers, then

1. times reading (CDF + CELs) and ``sigrestore.preprocess.rma`` in a fresh
   single-process Python subprocess, and R's ``make.cdf.env`` + ``ReadAffy`` +
   ``rma`` on the same files when ``Rscript`` (affy, makecdfenv) is present;
2. times ``rma`` over N arrays stored as per-sample ``.npy`` intensity files
   (the pipeline's layout) for several N, with each run's peak resident
   memory (``ru_maxrss`` of the child), and fits time = a + b * N.

Usage::

    python benchmarks/bench_rma.py [--arrays 18] [--scale 18,50,100] [--with-500]
                                   [--qc-at N] [--repeat 3] [--workdir DIR] [--no-r]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

N_SETS = 22283
SEED = 7


def _layout():
    from sigrestore.simulate.chip import make_layout

    return make_layout(N_SETS, probes_per_set=11, chip_type="BenchU133", seed=SEED)


def _expression(n_arrays: int) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    base = np.where(rng.random(N_SETS) < 0.4, rng.normal(5, 1, N_SETS), rng.normal(8, 2, N_SETS))
    return base[:, None] + rng.normal(0, 0.3, (N_SETS, n_arrays))


def write_cel_set(workdir: Path, n_arrays: int) -> tuple[Path, list[Path]]:
    from sigrestore.io import write_cdf, write_cel
    from sigrestore.simulate.chip import iter_arrays

    cdf = _layout()
    cdf_path = workdir / "BenchU133.CDF"
    write_cdf(cdf_path, cdf)
    paths = []
    for j, arr in enumerate(iter_arrays(cdf, _expression(n_arrays), seed=SEED)):
        p = workdir / f"cel{j + 1:03d}.CEL"
        write_cel(p, arr, format="xda-v4")  # binary CEL, as scanners write and affyio reads
        paths.append(p)
    return cdf_path, paths


def write_npy_set(workdir: Path, n_arrays: int) -> list[Path]:
    from sigrestore.simulate.chip import iter_arrays

    cdf = _layout()
    paths = []
    for j, arr in enumerate(iter_arrays(cdf, _expression(n_arrays), seed=SEED)):
        p = workdir / f"a{j + 1:03d}.npy"
        np.save(p, arr.intensity.astype(np.float32))
        paths.append(p)
    return paths


# ---------------------------------------------------------------- child runs


def child(mode: str, cdf_path: str, inputs: list[str]) -> None:
    """Run in a fresh interpreter; print one JSON line of timings."""
    t0 = time.perf_counter()
    from sigrestore.io import read_cdf, read_cel
    from sigrestore.preprocess import rma, run_rma

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    cdf = read_cdf(cdf_path)
    t_cdf = time.perf_counter() - t0
    t0 = time.perf_counter()
    arrays = [read_cel(p) for p in inputs] if mode == "cel" else inputs
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    if mode == "qc":
        res = run_rma(arrays, cdf)
        expr = res.expression
    else:
        expr = rma(arrays, cdf)
    t_rma = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(
        json.dumps(
            {
                "import_s": t_import,
                "cdf_s": t_cdf,
                "read_s": t_read,
                "rma_s": t_rma,
                "peak_mib": peak,
                "shape": list(expr.shape),
            }
        )
    )


def run_child(mode: str, cdf_path: Path, inputs: list[Path]) -> dict:
    listing = cdf_path.parent / f"inputs_{mode}_{len(inputs)}.txt"
    listing.write_text("\n".join(map(str, inputs)))
    cmd = [sys.executable, __file__, "--child", mode, str(cdf_path), str(listing)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


R_SCRIPT = r"""
suppressPackageStartupMessages({library(affy); library(makecdfenv)})
args <- commandArgs(trailingOnly = TRUE)
files <- readLines(args[2])
t0 <- proc.time()[["elapsed"]]
env <- make.cdf.env(basename(args[1]), cdf.path = dirname(args[1]), compress = FALSE)
assign("BenchU133", env, envir = .GlobalEnv)
t1 <- proc.time()[["elapsed"]]
ab <- ReadAffy(filenames = files, cdfname = "BenchU133")
t2 <- proc.time()[["elapsed"]]
e <- exprs(rma(ab, verbose = FALSE))
t3 <- proc.time()[["elapsed"]]
cat(sprintf("{\"cdf_s\": %.3f, \"read_s\": %.3f, \"rma_s\": %.3f}\n", t1 - t0, t2 - t1, t3 - t2))
write.table(e, args[3], sep = "\t", quote = FALSE)
"""


def run_r(cdf_path: Path, cels: list[Path], workdir: Path) -> tuple[dict, Path] | None:
    if shutil.which("Rscript") is None:
        return None
    script = workdir / "bench_rma.R"
    script.write_text(R_SCRIPT)
    listing = workdir / "r_inputs.txt"
    listing.write_text("\n".join(map(str, cels)))
    out_tsv = workdir / "r_expr.tsv"
    res = subprocess.run(
        ["Rscript", str(script), str(cdf_path), str(listing), str(out_tsv)],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        print(f"  R run failed: {res.stderr.strip().splitlines()[-1:]}")
        return None
    line = [ln for ln in res.stdout.splitlines() if ln.startswith("{")][-1]
    return json.loads(line), out_tsv


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arrays", type=int, default=18)
    ap.add_argument("--scale", default="18,50,100", help="array counts for the scaling runs")
    ap.add_argument("--with-500", action="store_true", help="add a 500-array scaling run")
    ap.add_argument(
        "--qc-at", type=int, default=0, help="also time run_rma (RMA + QC) on this many arrays"
    )
    ap.add_argument("--repeat", type=int, default=3, help="repeats of the timed runs (best kept)")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, cdf_path, listing = args.child
        child(mode, cdf_path, Path(listing).read_text().split("\n"))
        return

    print("command:", shlex.join([sys.executable, *sys.argv]))
    print(f"machine: {os.cpu_count()} CPUs; numpy {np.__version__}; single process")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_rma_"))
    work.mkdir(parents=True, exist_ok=True)
    celdir = work / "cel"
    celdir.mkdir(exist_ok=True)

    t0 = time.perf_counter()
    cdf_path, cels = write_cel_set(celdir, args.arrays)
    print(f"wrote CDF + {len(cels)} XDA CEL files in {time.perf_counter() - t0:.1f} s ({celdir})")

    print(f"\n== read + RMA, {args.arrays} arrays (best of {args.repeat}) ==")
    py = min(
        (run_child("cel", cdf_path, cels) for _ in range(args.repeat)),
        key=lambda d: d["cdf_s"] + d["read_s"] + d["rma_s"],
    )
    py_total = py["cdf_s"] + py["read_s"] + py["rma_s"]
    print(
        f"sigrestore: read CDF {py['cdf_s']:.2f} s, read CELs {py['read_s']:.2f} s, "
        f"rma {py['rma_s']:.2f} s, total {py_total:.2f} s, peak {py['peak_mib']:.0f} MiB"
    )
    qc = run_child("qc", cdf_path, cels)
    print(f"sigrestore run_rma (RMA + QC metrics): {qc['rma_s']:.2f} s after reading")

    r = None if args.no_r else run_r(cdf_path, cels, work)
    if r is not None:
        rt, r_tsv = r
        r_total = rt["cdf_s"] + rt["read_s"] + rt["rma_s"]
        print(
            f"R affy:     make.cdf.env {rt['cdf_s']:.2f} s, ReadAffy {rt['read_s']:.2f} s, "
            f"rma {rt['rma_s']:.2f} s, total {r_total:.2f} s"
        )
        print(
            f"ratio sigrestore/R: rma {py['rma_s'] / rt['rma_s']:.2f}, "
            f"read+rma {py_total / r_total:.2f} (goal <= 0.5)"
        )
        import pandas as pd

        from sigrestore.io import read_cdf
        from sigrestore.preprocess import rma

        ours = rma(cels, read_cdf(cdf_path))
        theirs = pd.read_csv(r_tsv, sep="\t", index_col=0)
        theirs.columns = [c.removesuffix(".CEL") for c in theirs.columns]
        diff = np.abs(ours.loc[theirs.index, theirs.columns].to_numpy() - theirs.to_numpy())
        print(
            f"max |sigrestore - R| = {diff.max():.2e} (log2), order equal: "
            f"{list(ours.index) == list(theirs.index)}"
        )
    else:
        print("R: not run (no Rscript with affy/makecdfenv, or --no-r)")

    sizes = sorted(
        {int(s) for s in args.scale.split(",") if s} | ({500} if args.with_500 else set())
    )
    n_files = max([*sizes, args.qc_at])
    npydir = work / "npy"
    npydir.mkdir(exist_ok=True)
    t0 = time.perf_counter()
    npys = write_npy_set(npydir, n_files)
    print(
        f"\n== scaling: rma over .npy intensity files (wrote {len(npys)} in "
        f"{time.perf_counter() - t0:.0f} s) =="
    )
    print(f"{'arrays':>6} {'rma s':>8} {'s/array':>8} {'peak MiB':>9}")
    rows = []
    for n in sizes:
        runs = [run_child("npy", cdf_path, npys[:n]) for _ in range(1 if n >= 200 else args.repeat)]
        best = min(runs, key=lambda d: d["rma_s"])
        rows.append((n, best["rma_s"], best["peak_mib"]))
        print(f"{n:>6} {best['rma_s']:>8.2f} {best['rma_s'] / n:>8.3f} {best['peak_mib']:>9.0f}")
    if len(rows) >= 2:
        n_arr = np.array([r[0] for r in rows], dtype=float)
        t_arr = np.array([r[1] for r in rows])
        b, a = np.polyfit(n_arr, t_arr, 1)
        pred = a + b * n_arr
        r2 = 1 - np.sum((t_arr - pred) ** 2) / np.sum((t_arr - t_arr.mean()) ** 2)
        print(f"linear fit: time = {a:.2f} s + {b * 1000:.1f} ms x arrays (R^2 = {r2:.4f})")
    if args.qc_at:
        qc_run = run_child("qc", cdf_path, npys[: args.qc_at])
        print(
            f"run_rma (RMA + QC) on {args.qc_at} arrays: {qc_run['rma_s']:.2f} s, "
            f"peak {qc_run['peak_mib']:.0f} MiB"
        )
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
