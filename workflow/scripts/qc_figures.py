"""Probe-level QC figures from RMA's QC data (PNG and SVG)."""

import sys

import matplotlib

matplotlib.use("Agg")

from sigrestore.io.npz import read_npz
from sigrestore.plotting import qc
from sigrestore.plotting.save import save_figure
from sigrestore.preprocess.qcdata import qc_data

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

result = qc_data(read_npz(snakemake.input.qc))
figures = {
    "raw_boxplot": lambda: qc.intensity_boxplots(result, stage="raw"),
    "raw_density": lambda: qc.intensity_densities(result, stage="raw"),
    "normalized_boxplot": lambda: qc.intensity_boxplots(result, stage="normalized"),
    "normalized_density": lambda: qc.intensity_densities(result, stage="normalized"),
    "rle": lambda: qc.rle_boxplots(result),
    "nuse": lambda: qc.nuse_boxplots(result),
    "residual_images": lambda: qc.residual_images(result),
}
for name, make in figures.items():
    save_figure(make(), [snakemake.output[f"{name}_png"], snakemake.output[f"{name}_svg"]])
