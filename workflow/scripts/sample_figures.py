"""PCA, sample-correlation heatmap and MA plots of the normalized arrays (MA panels
capped at qc.max_panels arrays, the QC table's outliers first)."""

import sys

import matplotlib

matplotlib.use("Agg")

import pandas as pd

from sigrestore.plotting.samples import sample_figures
from sigrestore.plotting.save import save_figure

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

expression = pd.read_parquet(snakemake.input.expression)
# RMA's per-array QC table: its outliers get MA panels first when they are capped.
quality = pd.read_csv(snakemake.input.quality, sep="\t", index_col=0)
outlier = quality.get("outlier", pd.Series(False, index=quality.index)).astype(bool)
flagged = quality.index[outlier].astype(str)
figures = sample_figures(
    expression, snakemake.params.groups, cap=snakemake.params.cap, flagged=flagged
)
for name, fig in figures.items():
    save_figure(fig, [snakemake.output[f"{name}_{fmt}"] for fmt in snakemake.params.figure_formats])
