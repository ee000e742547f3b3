"""Probe-level QC figures from RMA's QC data (PNG and SVG)."""

import pickle
import sys

from sigrestore.plotting import qc
from sigrestore.plotting.samples import save_figure

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

with open(snakemake.input.qc, "rb") as fh:
    result = pickle.load(fh)
figures = {
    "raw_boxplot": qc.intensity_boxplots(result, stage="raw"),
    "raw_density": qc.intensity_densities(result, stage="raw"),
    "normalized_boxplot": qc.intensity_boxplots(result, stage="normalized"),
    "normalized_density": qc.intensity_densities(result, stage="normalized"),
    "rle": qc.rle_boxplots(result),
    "nuse": qc.nuse_boxplots(result),
    "residual_images": qc.residual_images(result),
}
for name, fig in figures.items():
    save_figure(fig, [snakemake.output[f"{name}_png"], snakemake.output[f"{name}_svg"]])
