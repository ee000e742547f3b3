"""Write the bundled example's raw files (CDF, CELs, annotation, GMT)."""

import sys
from pathlib import Path

from sigrestore.simulate.experiment import example_spec, write_example

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

spec = example_spec(snakemake.params.example, seed=snakemake.params.seed)
files = write_example(Path(snakemake.output.cdf).parent, spec=spec)
print(
    f"wrote {len(files.all())} files ({spec.replicates} replicates per group) under"
    f" {Path(snakemake.output.cdf).parent}"
)
