"""Write small files with sigrestore's writers for check_writers.R (run once, by hand).

usage: python make_writer_check.py DIR && Rscript check_writers.R DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sigrestore.io import write_cdf, write_cel
from sigrestore.simulate import make_layout, synthesize_arrays


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    cdf = make_layout(200, chip_type="SIMSMALL", control_probesets=5)
    write_cdf(out / "SIMSMALL.CDF", cdf, format="ascii")
    write_cdf(out / "SIMSMALLX.CDF", cdf, format="xda")
    with open(out / "expected.tsv", "w") as fh:
        for name in sorted(cdf.probeset_names):
            pm = ",".join(map(str, cdf.pm(name) + 1))
            mm = ",".join(map(str, cdf.mm(name) + 1))
            fh.write(f"{name}\t{pm}\t{mm}\n")
    expr = np.random.default_rng(0).uniform(4, 12, (200, 3))
    rows = ["file\tintensity_sum"]
    for k, (arr, fmt) in enumerate(
        zip(synthesize_arrays(cdf, expr), ["text-v3", "xda-v4", "calvin"], strict=True)
    ):
        stored = arr.intensity if fmt == "text-v3" else arr.intensity.astype(np.float32)
        for name in (f"s{k}.CEL", f"g{k}.CEL.gz"):
            write_cel(out / name, arr, format=fmt)
            rows.append(f"{name}\t{float(np.sum(stored.astype(np.float64))):.17g}")
    (out / "sums.tsv").write_text("\n".join(rows) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
