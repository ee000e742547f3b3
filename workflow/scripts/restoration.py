"""Restoration analysis of one comparison at its level (gene or probe set): tables and figures."""

import os
import sys
from pathlib import Path

import pandas as pd

from sigrestore.pipeline import restoration_outputs

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

outputs = restoration_outputs(
    dict(zip(snakemake.params.table_contrasts, snakemake.input.tables, strict=True)),
    pd.read_parquet(snakemake.input.expression),
    snakemake.params.samples,
    comparison=snakemake.params.comparison,
    seed=snakemake.params.seed,
    contrasts=snakemake.params.contrasts,
    annotation=snakemake.input.annotation or None,
    **snakemake.params.design,
    **snakemake.params.options,
)
outputs.write(Path(snakemake.output.summary).parent)
print(outputs.filtered or "expression filter: off (differential_expression.filter.enabled)")
row = outputs.result.summary.iloc[0]
print(f"level {row['level']}: {row['universe']} features, signature {row['signature_size']}")
# Snakemake exports OPENBLAS_NUM_THREADS etc. = the rule's threads to every job.
print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
