"""The probe-set matrix every later job reads: the expression filter, applied once."""

import sys

import pandas as pd

from sigrestore.atomic import atomic_path, write_tsv
from sigrestore.diffexp import filter_probe_sets
from sigrestore.diffexp.filtering import filter_message, filter_table

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

de = snakemake.params.de
kept, summary = filter_probe_sets(
    pd.read_parquet(snakemake.input.expression),
    snakemake.params.samples,
    factors=de.design.factors,
    filter=de.filter,
)
with atomic_path(snakemake.output.matrix) as tmp:
    kept.to_parquet(tmp)
# What the filter did, for the logs of the jobs that read the matrix (no rows: off).
write_tsv(filter_table(summary), snakemake.output.summary, index=False)
print(filter_message(summary))
print(f"{len(kept)} probe sets x {kept.shape[1]} arrays")
