"""Benchmark of the raw-file readers (CEL, CDF), side by side with R's affyio.

Run: ``python benchmarks/bench_io.py [--workdir DIR] [--repeat N] [--no-r]``

Writes its own full-size files with the package's writers (a simulated
HG-U133 Plus 2-size chip, 1164 x 1164 cells and 54,675 probe sets; 18
HG-U133A-size arrays, 712 x 712, as gzipped text CEL files), then times:

- one full-size array read from XDA v4, Command Console and text v3 (cells/s);
- the 54,675-probe-set ASCII CDF parse, and its load from the .npz cache;
- the 18 gzipped text CEL files read sequentially and with a 2-process pool
  (the pipeline's per-sample parallelism on 2 cores).

When ``Rscript`` with affyio is available the same files are read by R in the
same run (``read.celfile`` per file, ``read_abatch`` for the 18 files) and the
ratios are printed.  Every figure, ours and R's, is the best of ``--repeat``
runs (the machine is shared: the minimum is the least disturbed run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from sigrestore.io import load_cdf, read_cdf, read_cel, write_cdf, write_cel
from sigrestore.simulate import iter_arrays, make_layout

FULL = dict(n_probesets=54675, rows=1164, cols=1164, chip_type="HG-U133_Plus_2")
U133A = dict(n_probesets=22283, chip_type="HG-U133A")  # 712 x 712 chosen automatically
N_U133A = 18


def _best_time(fn: Callable[[], object], repeat: int) -> float:
    """Best of ``repeat`` wall-clock times (the same statistic as on the R side)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _intensity_sum(path: str) -> float:
    return float(read_cel(path).intensity.sum())


def make_files(work: Path) -> dict[str, Path]:
    """Write the benchmark's input files (skipped when already present)."""
    files = {
        "xda": work / "full.xda.CEL",
        "calvin": work / "full.calvin.CEL",
        "text": work / "full.text.CEL",
        "cdf": work / "HG-U133_Plus_2.CDF",
    }
    if not all(p.exists() for p in files.values()):
        cdf = make_layout(
            FULL["n_probesets"],
            rows=FULL["rows"],
            cols=FULL["cols"],
            chip_type=FULL["chip_type"],
            control_probesets=62,
        )
        expr = np.random.default_rng(1).uniform(3, 13, (cdf.n_probesets, 1))
        (arr,) = iter_arrays(cdf, expr, seed=1)
        write_cel(files["xda"], arr, format="xda-v4")
        write_cel(files["calvin"], arr, format="calvin")
        write_cel(files["text"], arr, format="text-v3")
        write_cdf(files["cdf"], cdf)
    u133 = sorted(work.glob("u133a_*.CEL.gz"))
    if len(u133) != N_U133A:
        cdf = make_layout(U133A["n_probesets"], chip_type=U133A["chip_type"], control_probesets=68)
        rng = np.random.default_rng(2)
        base = rng.uniform(3, 13, (cdf.n_probesets, 1))
        expr = base + rng.normal(0, 0.3, (cdf.n_probesets, N_U133A))
        for k, arr in enumerate(iter_arrays(cdf, expr, seed=2)):
            write_cel(work / f"u133a_{k + 1:02d}.CEL.gz", arr, format="text-v3")
    return files


R_SCRIPT = r"""
suppressMessages(library(affyio))
args <- commandArgs(trailingOnly = TRUE)
repeat_n <- as.integer(args[1]); one <- args[2:4]; many <- args[5:length(args)]
best <- function(f) min(sapply(seq_len(repeat_n), function(i) system.time(f())[["elapsed"]]))
out <- list()
for (f in one) out[[basename(f)]] <- best(function() read.celfile(f, intensity.means.only = TRUE))
h <- read.celfile.header(many[1])
out[["abatch18"]] <- best(function() .Call("read_abatch", many, FALSE, FALSE, FALSE,
  h$cdfName, h$`CEL dimensions`, FALSE, PACKAGE = "affyio"))
cat(paste0("{", paste0('"', names(out), '": ', unlist(out), collapse = ", "), "}\n"))
"""


def r_timings(files: dict[str, Path], many: list[Path], repeat: int) -> dict[str, float] | None:
    """Best-of-``repeat`` affyio timings, or None when R/affyio is unavailable."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(R_SCRIPT)
    try:
        proc = subprocess.run(
            [rscript, fh.name, str(repeat)]
            + [str(files[k]) for k in ("xda", "calvin", "text")]
            + [str(p) for p in many],
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
        )
    finally:
        os.unlink(fh.name)
    if proc.returncode != 0:
        print(f"(R timings skipped: {proc.stderr.strip().splitlines()[-1:]})")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None, help="keep input files here")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-r", action="store_true", help="skip the R/affyio comparison")
    args = parser.parse_args(argv)
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"machine: {os.cpu_count()} CPUs; numpy {np.__version__}")
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_io_")
        work = Path(tmp.name)
    else:
        work = args.workdir
        work.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        files = make_files(work)
        many = sorted(work.glob("u133a_*.CEL.gz"))
        print(f"inputs written in {time.perf_counter() - t0:.1f} s under {work}")
        n_full = FULL["rows"] * FULL["cols"]
        rows: list[tuple[str, float, str]] = []

        for key, label in (("xda", "XDA v4"), ("calvin", "Command Console"), ("text", "text v3")):
            read_cel(files[key])  # warm the page cache
            t = _best_time(lambda k=key: read_cel(files[k]), args.repeat)
            extra = f"{n_full / t / 1e6:.1f} M cells/s" if key == "text" else ""
            rows.append((f"read full-size {label} CEL (1164x1164)", t, extra))

        t_parse = _best_time(lambda: read_cdf(files["cdf"]), max(1, args.repeat // 2))
        rows.append(("parse ASCII CDF, 54,675 probe sets", t_parse, ""))
        cache = work / "cdf-cache"
        shutil.rmtree(cache, ignore_errors=True)
        t_first = _best_time(lambda: load_cdf(files["cdf"], cache_dir=cache), 1)
        rows.append(("load_cdf, first call (parse + write cache)", t_first, ""))
        t_cache = _best_time(lambda: load_cdf(files["cdf"], cache_dir=cache), args.repeat)
        rows.append(("load_cdf from the .npz cache", t_cache, ""))

        paths = [str(p) for p in many]
        t_seq = _best_time(lambda: [read_cel(p) for p in paths], args.repeat)
        rows.append((f"{N_U133A} gzipped text CEL (712x712), sequential", t_seq, ""))

        def pooled() -> None:
            with ProcessPoolExecutor(max_workers=2) as pool:
                list(pool.map(_intensity_sum, paths))

        t_pool = _best_time(pooled, args.repeat)
        rows.append((f"{N_U133A} gzipped text CEL (712x712), 2 processes", t_pool, ""))

        r = None if args.no_r else r_timings(files, many, args.repeat)
        r_of = {}
        if r is not None:
            r_of = {
                rows[0][0]: r[files["xda"].name],
                rows[1][0]: r[files["calvin"].name],
                rows[2][0]: r[files["text"].name],
                rows[-2][0]: r["abatch18"],
                rows[-1][0]: r["abatch18"],
            }
        print()
        print(f"{'task':<52} {'sigrestore':>11} {'R affyio':>10} {'R/ours':>7}  note")
        for label, t, extra in rows:
            rt = r_of.get(label)
            rcol = f"{rt:9.3f}s" if rt is not None else f"{'-':>10}"
            ratio = f"{rt / t:6.2f}x" if rt is not None and t > 0 else f"{'-':>7}"
            print(f"{label:<52} {t:10.3f}s {rcol} {ratio}  {extra}")
        if r is not None:
            print(
                f"\nR text v3: {n_full / r[files['text'].name] / 1e6:.1f} M cells/s; "
                "R's read_abatch reads the 18 files in one process (its C loop)."
            )
        else:
            print("\n(R/affyio not available or disabled: no side-by-side figures)")
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
