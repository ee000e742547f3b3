"""The design table of the report: arrays per group, and how covariates enter."""

import sys

from sigrestore.atomic import write_tsv
from sigrestore.diffexp.design import design_table

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

design = snakemake.params.design.build(snakemake.params.samples)
table = design_table(design)
print(table.to_string(index=False))
write_tsv(table, snakemake.output.table, index=False)
