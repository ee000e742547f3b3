"""GEO raw: true: the CEL files of <GSE>_RAW.tar unpacked, and the sheet naming them."""

import sys

from sigrestore.atomic import write_tsv
from sigrestore.sources.geo import raw_inputs

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

sheet = snakemake.params.samples.drop(columns=["file"], errors="ignore")
raw = raw_inputs(snakemake.params.source, sheet, dest=snakemake.output.cels)
write_tsv(raw.samples, snakemake.output.sheet, index=False)
print(f"{len(raw.samples)} CEL files in {raw.cel_dir}")
