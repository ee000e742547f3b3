"""Read one CEL file and keep its cell intensities (the per-sample step)."""

import sys

import numpy as np

from sigrestore.atomic import atomic_path
from sigrestore.io import read_cel

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

cel = read_cel(snakemake.input.cel)
with atomic_path(snakemake.output.intensity) as tmp, open(tmp, "wb") as fh:
    np.save(fh, cel.intensity)
print(f"{snakemake.input.cel}: {cel.format}, {cel.chip_type}, {cel.rows} x {cel.cols} cells")
