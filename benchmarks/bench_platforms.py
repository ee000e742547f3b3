"""Benchmark: read + normalize Illumina probe profiles and Agilent FE files, against limma.

Writes simulated files with ``sigrestore.simulate.platforms`` (the planted
fulvestrant / cotreatment design), then times, each in a fresh process:

* Illumina (default 48,000 probes x 100 arrays, HumanHT-12 size):
  ``sigrestore.sources.illumina.load_illumina`` (read the sample and control
  probe profiles, neqc, detection filter) vs R
  ``read.ilmn(ctrlfiles =) + neqc + detection filter``;
* Agilent (default ~62,000 features x 50 FE files, 8x60K size):
  ``sigrestore.sources.agilent.load_agilent`` (read, normexp saddle + offset
  16, quantile, log2, gIsWellAboveBG filter, avereps) vs R
  ``read.maimages(source = "agilent", green.only = TRUE) + backgroundCorrect
  (normexp, offset 16) + normalizeBetweenArrays(quantile) + filter + avereps``.

Both sides write their matrix; the largest absolute difference is printed
beside the times and their ratio.  R is skipped without ``Rscript``/limma.

Usage::

    python benchmarks/bench_platforms.py [--illumina-arrays 100] [--agilent-arrays 50]
                                         [--scale 1.0] [--repeat 1] [--workdir DIR [--reuse]]
                                         [--no-r]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

R_ILLUMINA = r"""
suppressMessages(library(limma))
a <- commandArgs(trailingOnly = TRUE)
t0 <- proc.time()[["elapsed"]]
x <- read.ilmn(file.path(a[1], "sample_probe_profile.txt"),
               ctrlfiles = file.path(a[1], "control_probe_profile.txt"),
               other.columns = "Detection", verbose = FALSE)
y <- neqc(x)
y <- y[rowSums(y$other$Detection < 0.05) >= as.integer(a[3]), ]
t1 <- proc.time()[["elapsed"]]
write.table(y$E, a[2], sep = "\t", quote = FALSE, col.names = NA)
cat(t1 - t0, "\n")
"""

R_AGILENT = r"""
suppressMessages(library(limma))
a <- commandArgs(trailingOnly = TRUE)
targets <- read.delim(file.path(a[1], "samples.tsv"), stringsAsFactors = FALSE)
t0 <- proc.time()[["elapsed"]]
x <- read.maimages(file.path(a[1], targets$file), source = "agilent", green.only = TRUE,
                   other.columns = "gIsWellAboveBG", names = targets$sample, verbose = FALSE)
y <- backgroundCorrect(x, method = "normexp", offset = 16, verbose = FALSE)
y <- normalizeBetweenArrays(y, method = "quantile")
keep <- y$genes$ControlType == 0 & rowSums(y$other$gIsWellAboveBG > 0) >= as.integer(a[3])
y <- y[keep, ]
y <- avereps(y, ID = y$genes$ProbeName)
t1 <- proc.time()[["elapsed"]]
write.table(y$E, a[2], sep = "\t", quote = FALSE, col.names = NA)
cat(t1 - t0, "\n")
"""


def _design(n_genes: int, n_arrays: int):
    from sigrestore.simulate.experiment import ExampleSpec, sample_table

    reps = -(-n_arrays // 8)
    spec = ExampleSpec(n_probesets=n_genes, signature_size=600, n_mtorc1=200, replicates=reps)
    table = sample_table(spec)
    # Drop whole replicates from the end of each group until n_arrays remain.
    table = table.sort_values(["replicate", "cell_line", "treatment"], kind="stable")
    return spec, table.head(n_arrays)[["sample"]]


def write_files(workdir: Path, n_ilmn: int, n_agil: int, scale: float) -> tuple[Path, Path]:
    from sigrestore.simulate.platforms import (
        AgilentSimSpec,
        IlluminaSimSpec,
        write_agilent_example,
        write_illumina_example,
    )

    ilmn, agil = workdir / "illumina", workdir / "agilent"
    spec, sheet = _design(round(37600 * scale), n_ilmn)
    write_illumina_example(ilmn, IlluminaSimSpec(design=spec, n_negative=770), samples=sheet)
    spec, sheet = _design(round(49000 * scale), n_agil)
    write_agilent_example(
        agil,
        AgilentSimSpec(design=spec, n_negative=150, n_positive=60, gzip_every=0),
        samples=sheet,
    )
    return ilmn, agil


def child(kind: str, directory: str, out: str) -> None:
    """Time one source in this (fresh) process and write its matrix."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from sigrestore.sources.agilent import AgilentSettings, load_agilent
    from sigrestore.sources.illumina import IlluminaSettings, load_illumina

    d = Path(directory)
    sheet = pd.read_csv(d / "samples.tsv", sep="\t")
    t0 = time.perf_counter()
    if kind == "illumina":
        ds = load_illumina(
            IlluminaSettings(
                probe_profile="sample_probe_profile.txt",
                control_profile="control_probe_profile.txt",
            ),
            sheet,
            base_dir=d,
        )
        k = ds.provenance["filter"]["min_detected_arrays"]
    else:
        ds = load_agilent(AgilentSettings(), sheet, base_dir=d)
        k = ds.provenance["filter"]["gIsWellAboveBG_min_arrays"]
    elapsed = time.perf_counter() - t0
    ds.expression.to_pickle(out)
    print(json.dumps({"seconds": elapsed, "shape": list(ds.shape), "min_arrays": k}))


def run_python(kind: str, d: Path, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, str(d), str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"sigrestore ({kind}) failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_r(kind: str, d: Path, out: Path, k: int) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    script = d.parent / f"bench_{kind}.R"
    script.write_text(R_ILLUMINA if kind == "illumina" else R_AGILENT)
    res = subprocess.run(
        ["Rscript", str(script), str(d), str(out), str(k)], capture_output=True, text=True
    )
    if res.returncode != 0:
        print(f"R ({kind}) failed:\n{res.stderr[-2000:]}")
        return None
    return float(res.stdout.split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--illumina-arrays", type=int, default=100)
    ap.add_argument("--agilent-arrays", type=int, default=50)
    ap.add_argument("--scale", type=float, default=1.0, help="probe-count scale (1: full size)")
    ap.add_argument("--repeat", type=int, default=1, help="repeats of the timed runs (best kept)")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument(
        "--reuse", action="store_true", help="reuse files already simulated in --workdir"
    )
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    print("command:", shlex.join([Path(sys.executable).name, *sys.argv]))
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_platforms_")
        workdir = Path(tmp.name)
    else:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        if args.reuse and (workdir / "agilent" / "samples.tsv").exists():
            ilmn, agil = workdir / "illumina", workdir / "agilent"
            print(f"reusing the simulated files under {workdir}")
        else:
            ilmn, agil = write_files(workdir, args.illumina_arrays, args.agilent_arrays, args.scale)
            print(f"simulated files written in {time.perf_counter() - t0:.1f} s under {workdir}")
        for kind, d in (("illumina", ilmn), ("agilent", agil)):
            py = min(
                (run_python(kind, d, workdir / f"{kind}.pkl") for _ in range(args.repeat)),
                key=lambda r: r["seconds"],
            )
            n_arr = len(pd.read_csv(d / "samples.tsv", sep="\t"))
            line = (
                f"{kind}: {n_arr} arrays, result {py['shape'][0]} x {py['shape'][1]};"
                f" sigrestore {py['seconds']:.2f} s"
            )
            r_sec = None
            if not args.no_r:
                rs = [
                    run_r(kind, d, workdir / f"{kind}_r.tsv", py["min_arrays"])
                    for _ in range(args.repeat)
                ]
                rs = [r for r in rs if r is not None]
                r_sec = min(rs) if rs else None
            if r_sec is not None:
                got = pd.read_pickle(workdir / f"{kind}.pkl")
                want = pd.read_csv(workdir / f"{kind}_r.tsv", sep="\t", index_col=0)
                same = list(got.index) == [str(i) for i in want.index]
                diff = float(np.max(np.abs(got.to_numpy() - want.to_numpy()))) if same else np.nan
                line += (
                    f"; limma {r_sec:.2f} s; limma / sigrestore = {r_sec / py['seconds']:.2f};"
                    f" same probes: {same}; max |difference| = {diff:.2e}"
                )
            else:
                line += "; limma not run"
            print(line, flush=True)
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
