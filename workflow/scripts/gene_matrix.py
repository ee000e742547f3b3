"""The gene matrix every gene-level job reads: the filtered probe sets collapsed once."""

import sys

import pandas as pd

from sigrestore.annotation import collapse_to_genes
from sigrestore.atomic import atomic_path

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

genes = collapse_to_genes(
    pd.read_parquet(snakemake.input.probesets),
    pd.read_parquet(snakemake.input.features[0]),
    method=snakemake.params.collapse,
)
with atomic_path(snakemake.output.matrix) as tmp:
    genes.to_parquet(tmp)
print(f"{len(genes)} genes x {genes.shape[1]} arrays ({snakemake.params.collapse})")
