"""Parse the CDF once per project into its compact cached form (.npz)."""

import sys

from sigrestore.io import read_cdf, save_cdf_cache

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

cdf = read_cdf(snakemake.input.cdf)
save_cdf_cache(cdf, snakemake.output.cache)
print(f"{snakemake.input.cdf}: {cdf.chip_type}, {cdf.n_probesets} probe sets")
