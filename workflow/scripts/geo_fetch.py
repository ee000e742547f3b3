"""Fetch a GEO series (or GDS) into the cache; manifest.json is written last."""

import sys

from sigrestore.geo import fetch_geo

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

for fetched in fetch_geo(snakemake.params.fetch):
    print(fetched)
