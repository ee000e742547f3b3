"""limma table of one contrast (probe sets, and genes when annotated), volcano and MA plot."""

import sys

import pandas as pd

from sigrestore.atomic import write_tsv
from sigrestore.diffexp import build_design, group_sizes
from sigrestore.pipeline import contrast_tables
from sigrestore.plotting.diffexp import ma_plot, volcano_plot
from sigrestore.plotting.samples import save_figure

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

contrast = snakemake.wildcards.contrast
# The arrays per group of the model, first in the log (a group of one array is
# usually a mislabelled sample; the validation also refuses spelling variants).
_design = build_design(
    snakemake.params.samples,
    factors=snakemake.params.design["factors"],
    covariates=snakemake.params.design.get("covariates") or [],
)
print("arrays per group: " + ", ".join(f"{g} {n}" for g, n in group_sizes(_design).items()))
tables = contrast_tables(
    pd.read_parquet(snakemake.input.expression),
    snakemake.params.samples,
    contrast=contrast,
    contrasts=snakemake.params.contrasts,
    annotation=snakemake.input.annotation or None,
    **snakemake.params.design,
    **snakemake.params.options,
)
# The filter's effect (probe sets removed before the fit) goes to the job log.
print(tables.filtered or "expression filter: off (differential_expression.filter.enabled)")
print(f"{len(tables.probesets)} probe sets tested")
if tables.genes is not None:
    print(f"{len(tables.genes)} genes tested (gene-level table)")
write_tsv(tables.probesets, snakemake.output.table)
if tables.genes is not None:
    write_tsv(tables.genes, snakemake.output.genes[0])
fdr = snakemake.params.fdr
save_figure(
    volcano_plot(tables.probesets, fdr=fdr, title=contrast),
    [snakemake.output.volcano_png, snakemake.output.volcano_svg],
)
save_figure(
    ma_plot(tables.probesets, fdr=fdr, title=contrast),
    [snakemake.output.ma_png, snakemake.output.ma_svg],
)
