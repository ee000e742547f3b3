"""limma tables of every contrast (probe sets, and genes when annotated), volcano and MA plots."""

import sys

import matplotlib

matplotlib.use("Agg")

import pandas as pd

from sigrestore.atomic import write_tsv
from sigrestore.diffexp import FilterSummary, group_sizes
from sigrestore.diffexp.filtering import filter_message
from sigrestore.pipeline import LevelMatrices, fit_contrast_tables
from sigrestore.plotting.diffexp import ma_plot, volcano_plot
from sigrestore.plotting.save import save_figure

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

de = snakemake.params.de
inputs = snakemake.input
output = snakemake.output
# The arrays per group of the model, first in the log (a group of one array is
# usually a mislabelled sample; the validation also refuses spelling variants).
_design = de.design.build(snakemake.params.samples)
print("arrays per group: " + ", ".join(f"{g} {n}" for g, n in group_sizes(_design).items()))
matrices = LevelMatrices(
    probeset=pd.read_parquet(inputs.probesets),
    gene=pd.read_parquet(inputs.genes[0]) if inputs.genes else None,
)
tables = fit_contrast_tables(
    matrices,
    snakemake.params.samples,
    de,
    contrasts=snakemake.params.contrasts,
    features=pd.read_parquet(inputs.features[0]) if inputs.features else None,
    weights=pd.read_parquet(inputs.weights[0]) if inputs.weights else None,
    gene_weights=pd.read_parquet(inputs.gene_weights[0]) if inputs.gene_weights else None,
)
# The filter ran once (feature_matrices); its effect goes to this job's log too.
print(filter_message(FilterSummary.from_frame(pd.read_csv(inputs.filtered, sep="\t"))))


def _figure_paths(name, contrast):
    """The outputs of one figure of one contrast, one per format."""
    return [output[f"{name}_{fmt}_{contrast}"] for fmt in snakemake.params.figure_formats]


for contrast, table in tables.items():
    print(f"{contrast}: {len(table.probesets)} probe sets tested", end="")
    print(f", {len(table.genes)} genes (gene-level table)" if table.genes is not None else "")
    write_tsv(table.probesets, output[f"table_{contrast}"])
    if table.genes is not None:
        write_tsv(table.genes, output[f"genes_{contrast}"])
    save_figure(
        volcano_plot(table.probesets, fdr=de.fdr, lfc=de.lfc, title=contrast),
        _figure_paths("volcano", contrast),
    )
    save_figure(
        ma_plot(table.probesets, fdr=de.fdr, lfc=de.lfc, title=contrast),
        _figure_paths("ma", contrast),
    )
