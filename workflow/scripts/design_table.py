"""The design table of the report: arrays per group, and how covariates enter."""

import sys

from sigrestore.atomic import write_tsv
from sigrestore.diffexp.design import build_design, design_table

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

design = build_design(
    snakemake.params.samples,
    factors=snakemake.params.design["factors"],
    covariates=snakemake.params.design.get("covariates") or [],
)
table = design_table(design)
print(table.to_string(index=False))
write_tsv(table, snakemake.output.table, index=False)
