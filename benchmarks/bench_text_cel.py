"""Text v3 CEL reading against R's affyio, alternating on the same files.

Run: ``python benchmarks/bench_text_cel.py [--files 4] [--rounds 3] [--plain] [--workdir DIR]``

Writes ``--files`` HG-U133A-size arrays (712 x 712 cells) as gzipped (or,
with ``--plain``, uncompressed) text v3 CEL files with the package's
simulator and writer, then runs ``--rounds`` rounds of: R's
``read.celfile(f, intensity.means.only = TRUE)`` over every file in one
``Rscript``, then ``sigrestore.io.read_cel`` over every file in one Python
process (each after one warm-up read).  Rounds alternate so that both sides
see the same machine load; the per-round ratio is what to read on a shared
machine.  Prints seconds per file and R / sigrestore per round.
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
from sigrestore.io import read_cel
f = open(sys.argv[1]).read().split()
read_cel(f[0])
t = time.perf_counter()
for x in f:
    read_cel(x)
print((time.perf_counter() - t) / len(f))
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
    print(f"{'round':<7}{'R s/file':>10}{'ours s/file':>13}{'R / ours':>10}")
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
            [sys.executable, str(work / "read.py"), str(listing)],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise SystemExit(f"sigrestore side failed ({out.returncode}):\n{out.stderr}")
        ours = float(out.stdout.split()[-1])
        print(f"{k:<7}{r:>10.3f}{ours:>13.3f}{r / ours:>10.2f}")


if __name__ == "__main__":
    main()
