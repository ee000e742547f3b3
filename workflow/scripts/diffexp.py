"""limma table of one contrast (probe sets, and genes when annotated), volcano and MA plot."""

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

contrast = snakemake.wildcards.contrast
de = snakemake.params.de
inputs = snakemake.input
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
    contrast=contrast,
    contrasts=snakemake.params.contrasts,
    features=pd.read_parquet(inputs.features[0]) if inputs.features else None,
    weights=pd.read_parquet(inputs.weights[0]) if inputs.weights else None,
    gene_weights=pd.read_parquet(inputs.gene_weights[0]) if inputs.gene_weights else None,
)
# The filter ran once (probeset_matrix); its effect goes to this job's log too.
print(filter_message(FilterSummary.from_frame(pd.read_csv(inputs.filtered, sep="\t"))))
print(f"{len(tables.probesets)} probe sets tested")
if tables.genes is not None:
    print(f"{len(tables.genes)} genes tested (gene-level table)")
write_tsv(tables.probesets, snakemake.output.table)
if tables.genes is not None:
    write_tsv(tables.genes, snakemake.output.genes[0])
save_figure(
    volcano_plot(tables.probesets, fdr=de.fdr, lfc=de.lfc, title=contrast),
    [snakemake.output.volcano_png, snakemake.output.volcano_svg],
)
save_figure(
    ma_plot(tables.probesets, fdr=de.fdr, lfc=de.lfc, title=contrast),
    [snakemake.output.ma_png, snakemake.output.ma_svg],
)
