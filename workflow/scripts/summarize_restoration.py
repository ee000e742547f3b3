"""One table with the summary row of every comparison."""

import json
import sys

import pandas as pd

from sigrestore.atomic import write_tsv

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

frames = [pd.read_csv(p, sep="\t", index_col=0) for p in snakemake.input.summaries]
summary = pd.concat(frames) if frames else pd.DataFrame(index=pd.Index([], name="comparison"))
# Provenance: which source made the values, and how they were transformed.
with open(snakemake.input.provenance) as fh:
    provenance = json.load(fh)
summary["source"] = provenance["source"]
summary["transformation"] = provenance["transformation"]
print(f"source {provenance['source']}: {provenance['transformation']}")
write_tsv(summary, snakemake.output.table)
