"""PCA, sample-correlation heatmap and MA plots of the normalized arrays."""

import sys

import matplotlib

matplotlib.use("Agg")

import pandas as pd

from sigrestore.plotting.samples import sample_figures
from sigrestore.plotting.save import save_figure

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

expression = pd.read_parquet(snakemake.input.expression)
for name, fig in sample_figures(expression, snakemake.params.groups).items():
    save_figure(fig, [snakemake.output[f"{name}_png"], snakemake.output[f"{name}_svg"]])
