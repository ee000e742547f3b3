"""Write the bundled example's raw files (CDF, CELs, annotation, GMT)."""

import sys
from pathlib import Path

from sigrestore.simulate.experiment import ExampleSpec, write_example

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

files = write_example(
    Path(snakemake.output.cdf).parent, spec=ExampleSpec(seed=snakemake.params.seed)
)
print(f"wrote {len(files.all())} files under {Path(snakemake.output.cdf).parent}")
