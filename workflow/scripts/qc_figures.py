"""Array QC figures (in every format of figures.formats): from RMA's QC data
(raw and normalized intensities, RLE, NUSE, residual images), or for a matrix
source the distributions of its values; then PCA, sample-correlation heatmap
and MA plots of the normalized arrays (MA panels capped at qc.max_panels
arrays, the QC table's outliers first)."""

import json
import sys

import matplotlib

matplotlib.use("Agg")

import pandas as pd

from sigrestore.io.npz import read_npz
from sigrestore.plotting import qc
from sigrestore.plotting.samples import sample_figures
from sigrestore.plotting.save import save_figure
from sigrestore.preprocess.matrixqc import matrix_qc
from sigrestore.preprocess.qcdata import qc_data

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

params = snakemake.params
expression = pd.read_parquet(snakemake.input.expression)
if snakemake.input.qc:
    result = qc_data(read_npz(snakemake.input.qc[0]))
    figures = {
        "raw_boxplot": lambda: qc.intensity_boxplots(result, stage="raw"),
        "raw_density": lambda: qc.intensity_densities(result, stage="raw"),
        "normalized_boxplot": lambda: qc.intensity_boxplots(result, stage="normalized"),
        "normalized_density": lambda: qc.intensity_densities(result, stage="normalized"),
        "rle": lambda: qc.rle_boxplots(result),
        "nuse": lambda: qc.nuse_boxplots(result),
        "residual_images": lambda: qc.residual_images(result, cap=params.cap),
    }
else:
    result = matrix_qc(expression)
    with open(snakemake.input.provenance) as fh:
        values = json.load(fh)["transformation"]
    figures = {
        "normalized_boxplot": lambda: qc.intensity_boxplots(
            result, stage="normalized", values=f"values ({values})", unit="log2 value"
        ),
        "normalized_density": lambda: qc.intensity_densities(
            result, stage="normalized", values=f"values ({values})", unit="log2 value"
        ),
    }
for name, make in figures.items():
    save_figure(make(), [snakemake.output[f"{name}_{fmt}"] for fmt in params.figure_formats])

# The per-array QC table: its outliers get MA panels first when they are capped.
quality = pd.read_csv(snakemake.input.quality, sep="\t", index_col=0)
outlier = quality.get("outlier", pd.Series(False, index=quality.index)).astype(bool)
flagged = quality.index[outlier].astype(str)
for name, fig in sample_figures(expression, params.groups, cap=params.cap, flagged=flagged).items():
    save_figure(fig, [snakemake.output[f"{name}_{fmt}"] for fmt in params.figure_formats])
