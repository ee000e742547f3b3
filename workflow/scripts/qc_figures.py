"""Array QC figures (in every format of figures.formats): from RMA's QC data (raw and normalized
intensities, RLE, NUSE, residual images), or for a matrix source the
distributions of its values."""

import json
import sys

import matplotlib

matplotlib.use("Agg")

import pandas as pd

from sigrestore.io.npz import read_npz
from sigrestore.plotting import qc
from sigrestore.plotting.save import save_figure
from sigrestore.preprocess.matrixqc import matrix_qc
from sigrestore.preprocess.qcdata import qc_data

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

if snakemake.input.qc:
    result = qc_data(read_npz(snakemake.input.qc[0]))
    figures = {
        "raw_boxplot": lambda: qc.intensity_boxplots(result, stage="raw"),
        "raw_density": lambda: qc.intensity_densities(result, stage="raw"),
        "normalized_boxplot": lambda: qc.intensity_boxplots(result, stage="normalized"),
        "normalized_density": lambda: qc.intensity_densities(result, stage="normalized"),
        "rle": lambda: qc.rle_boxplots(result),
        "nuse": lambda: qc.nuse_boxplots(result),
        "residual_images": lambda: qc.residual_images(result, cap=snakemake.params.cap),
    }
else:
    result = matrix_qc(pd.read_parquet(snakemake.input.expression[0]))
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
    save_figure(
        make(), [snakemake.output[f"{name}_{fmt}"] for fmt in snakemake.params.figure_formats]
    )
