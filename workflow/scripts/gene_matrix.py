"""The gene matrix every gene-level job reads: the filtered probe sets collapsed once.

A weighted source (the count source's voom weights) keeps one row per gene,
with its weights row and the chosen rows (read by the restoration's voom refits).
"""

import sys

import pandas as pd

from sigrestore.atomic import atomic_path, write_tsv
from sigrestore.pipeline import gene_level_matrix

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

probesets = pd.read_parquet(snakemake.input.probesets)
weights = pd.read_parquet(snakemake.input.weights[0]) if snakemake.input.weights else None
genes = gene_level_matrix(
    probesets,
    pd.read_parquet(snakemake.input.features[0]),
    collapse=snakemake.params.collapse,
    weights=weights,
)
with atomic_path(snakemake.output.matrix) as tmp:
    genes.matrix.to_parquet(tmp)
if snakemake.output.weights:
    with atomic_path(snakemake.output.weights[0]) as tmp:
        genes.weights.to_parquet(tmp)
    write_tsv(genes.rows.rename("probeset").to_frame(), snakemake.output.rows[0])
print(
    f"{len(genes.matrix)} genes x {genes.matrix.shape[1]} arrays from {len(probesets)} features"
    f" ({snakemake.params.collapse}{', voom weights carried' if weights is not None else ''})"
)
