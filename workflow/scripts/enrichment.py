"""gseapy prerank of every contrast against the config's gene sets."""

import sys

import pandas as pd

from sigrestore.enrichment import enrichment_tables, load_gene_sets, write_enrichment

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

gene_sets = load_gene_sets(snakemake.input.gene_sets)
for contrast, path, out in zip(
    snakemake.params.contrasts, snakemake.input.tables, snakemake.output.tables, strict=True
):
    table = pd.read_csv(path, sep="\t", index_col=0)
    result = enrichment_tables({contrast: table}, gene_sets, settings=snakemake.params.settings)
    write_enrichment(result, out)
