"""Text v3 CEL reading against R's affyio, alternating on the same files.

Run: ``python benchmarks/bench_text_cel.py [--files 4] [--rounds 3] [--plain] [--threads 2]
[--workdir DIR]``

Writes ``--files`` HG-U133A-size arrays (712 x 712 cells) as gzipped (or,
with ``--plain``, uncompressed) text v3 CEL files with the package's
simulator and writer, then runs ``--rounds`` rounds of: R's
``read.celfile(f, intensity.means.only = TRUE)`` (what ``ReadAffy`` calls)
over every file in one ``Rscript``, then in one Python process (each after
one warm-up read) ``sigrestore.io.read_cel`` (the whole file),
``read_cel_intensity`` (coordinates and means: what the rma job reads, as
affyio's ``intensity.means.only``) one file after the other, and
``read_cel_intensity`` over all files on ``--threads`` threads (how the rma
job reads them: decompression and parsing of different files overlap).
Rounds alternate so that both sides see the same machine load.  Prints
seconds per file and R / sigrestore per round.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

R_SCRIPT = r"""
suppressPackageStartupMessages(library(affyio))
f <- readLines(commandArgs(trailingOnly = TRUE)[1])
invisible(read.celfile(f[1], intensity.means.only = TRUE))
t <- system.time(for (x in f) read.celfile(x, intensity.means.only = TRUE))[["elapsed"]]
cat(t / length(f), "\n")
"""

PY_SCRIPT = r"""
import sys, time
from concurrent.futures import ThreadPoolExecutor
from sigrestore.io import read_cel, read_cel_intensity
f = open(sys.argv[1]).read().split()
threads = int(sys.argv[2])
read_cel(f[0]); read_cel_intensity(f[0])
out = []
for read in (read_cel, read_cel_intensity):
    t = time.perf_counter()
    for x in f:
        read(x)
    out.append((time.perf_counter() - t) / len(f))
with ThreadPoolExecutor(max_workers=threads) as pool:
    t = time.perf_counter()
    list(pool.map(read_cel_intensity, f))
    out.append((time.perf_counter() - t) / len(f))
print(*out)
"""


def write_files(work: Path, n: int, gz: bool) -> list[Path]:
    from sigrestore.io import write_cel
    from sigrestore.simulate import iter_arrays, make_layout

    suffix = ".CEL.gz" if gz else ".CEL"
    paths = [work / f"text{j:02d}{suffix}" for j in range(n)]
    if all(p.exists() for p in paths):
        return paths
    cdf = make_layout(22283, chip_type="HG-U133A")
    expr = np.random.default_rng(1).uniform(3, 13, (cdf.n_probesets, n))
    for p, arr in zip(paths, iter_arrays(cdf, expr, seed=1), strict=True):
        write_cel(p, arr, format="text-v3")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--plain", action="store_true", help="uncompressed files")
    parser.add_argument("--threads", type=int, default=2, help="threads of the pooled read")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="sigrestore-textcel-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    paths = write_files(work, args.files, gz=not args.plain)
    listing = work / "files.txt"
    listing.write_text("\n".join(map(str, paths)) + "\n")
    (work / "read.R").write_text(R_SCRIPT)
    (work / "read.py").write_text(PY_SCRIPT)
    have_r = shutil.which("Rscript") is not None
    print(f"{len(paths)} {'plain' if args.plain else 'gzipped'} 712 x 712 text v3 CEL files")
    print(
        f"{'round':<7}{'R s/file':>10}{'read_cel':>10}{'means':>8}{f'{args.threads} thr':>8}"
        f"{'R/read_cel':>12}{'R/means':>9}{f'R/{args.threads} thr':>9}"
    )
    for k in range(1, args.rounds + 1):
        r = float("nan")
        if have_r:
            out = subprocess.run(
                ["Rscript", str(work / "read.R"), str(listing)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = float(out.stdout.split()[-1])
        out = subprocess.run(
            [sys.executable, str(work / "read.py"), str(listing), str(args.threads)],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise SystemExit(f"sigrestore side failed ({out.returncode}):\n{out.stderr}")
        full, means, pooled = (float(v) for v in out.stdout.split()[-3:])
        print(
            f"{k:<7}{r:>10.3f}{full:>10.3f}{means:>8.3f}{pooled:>8.3f}"
            f"{r / full:>12.2f}{r / means:>9.2f}{r / pooled:>9.2f}"
        )


if __name__ == "__main__":
    main()
