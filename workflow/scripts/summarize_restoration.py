"""One table with the summary row of every comparison."""

import sys

import pandas as pd

from sigrestore.atomic import write_tsv

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

frames = [pd.read_csv(p, sep="\t", index_col=0) for p in snakemake.input.summaries]
summary = pd.concat(frames) if frames else pd.DataFrame(index=pd.Index([], name="comparison"))
write_tsv(summary, snakemake.output.table)
