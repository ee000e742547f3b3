"""limma table of one contrast (probe sets, and genes when annotated), volcano and MA plot."""

import sys

import pandas as pd

from sigrestore.atomic import write_tsv
from sigrestore.diffexp import differential_expression
from sigrestore.plotting.diffexp import ma_plot, volcano_plot
from sigrestore.plotting.samples import save_figure

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

options = dict(snakemake.params.options)
collapse = options.pop("collapse")
contrast = snakemake.wildcards.contrast
expression = pd.read_parquet(snakemake.input.expression)
design = dict(
    factors=snakemake.params.factors,
    contrasts=snakemake.params.contrast,
    covariates=snakemake.params.covariates,
    block=snakemake.params.block,
    **options,
)
table = differential_expression(expression, snakemake.params.samples, **design)[contrast]
if snakemake.input.annotation:
    from sigrestore.annotation import annotate_table, collapse_to_genes, read_annotation

    annotation = read_annotation(snakemake.input.annotation)
    table = annotate_table(table, annotation)
    genes = collapse_to_genes(expression, annotation, method=collapse)
    gene_table = differential_expression(genes, snakemake.params.samples, **design)[contrast]
    write_tsv(gene_table, snakemake.output.genes[0])
write_tsv(table, snakemake.output.table)

fdr = snakemake.params.fdr
save_figure(
    volcano_plot(table, fdr=fdr, title=contrast),
    [snakemake.output.volcano_png, snakemake.output.volcano_svg],
)
save_figure(
    ma_plot(table, fdr=fdr, title=contrast), [snakemake.output.ma_png, snakemake.output.ma_svg]
)
