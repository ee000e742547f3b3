"""The feature matrices every later job reads: the expression filter applied once
(probe-set matrix) and, with an annotation, the filtered probe sets collapsed to
genes once (gene matrix).

A weighted source (the count source's voom weights) keeps one row per gene,
with its weights row and the chosen rows (read by the restoration's voom refits).
"""

import sys

import pandas as pd

from sigrestore.atomic import atomic_path, write_tsv
from sigrestore.diffexp import filter_probe_sets
from sigrestore.diffexp.filtering import filter_message, filter_table
from sigrestore.pipeline import gene_level_matrix

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

de = snakemake.params.de
inputs, output = snakemake.input, snakemake.output
probesets, summary = filter_probe_sets(
    pd.read_parquet(inputs.expression),
    snakemake.params.samples,
    factors=de.design.factors,
    filter=de.filter,
)
with atomic_path(output.probesets) as tmp:
    probesets.to_parquet(tmp)
# What the filter did, for the logs of the jobs that read the matrix (no rows: off).
write_tsv(filter_table(summary), output.filtered, index=False)
print(filter_message(summary))
print(f"{len(probesets)} probe sets x {probesets.shape[1]} arrays")

if output.genes:
    weights = pd.read_parquet(inputs.weights[0]) if inputs.weights else None
    genes = gene_level_matrix(
        probesets, pd.read_parquet(inputs.features[0]), collapse=de.collapse, weights=weights
    )
    with atomic_path(output.genes[0]) as tmp:
        genes.matrix.to_parquet(tmp)
    if output.gene_weights:
        with atomic_path(output.gene_weights[0]) as tmp:
            genes.weights.to_parquet(tmp)
        write_tsv(genes.rows.rename("probeset").to_frame(), output.gene_rows[0])
    print(
        f"{len(genes.matrix)} genes x {genes.matrix.shape[1]} arrays from {len(probesets)}"
        f" features ({de.collapse}{', voom weights carried' if weights is not None else ''})"
    )
