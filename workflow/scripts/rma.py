"""The source's job (Affymetrix: RMA over all CEL files): expression matrix (TSV +
parquet), probe-set annotation, per-array quality table, provenance, QC data (.npz)."""

import json
import sys

import pandas as pd

from sigrestore.atomic import atomic_path, write_tsv
from sigrestore.io import load_cdf
from sigrestore.io.npz import write_npz
from sigrestore.sources import affymetrix, value_transformation

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

# Parsed once, then loaded from the package's CDF cache ($SIGRESTORE_CACHE or
# ~/.cache/sigrestore, keyed by the CDF's size, time stamp and content; an
# unusable or unwritable cache just means parsing).
cdf = load_cdf(snakemake.input.cdf)
# The job reads the CEL files itself (streaming, in run_rma): the sheet's paths
# are this rule's inputs.
samples = snakemake.params.samples
if snakemake.input.sheet:  # GEO raw: true, the CEL files unpacked from the RAW tar
    cels = pd.read_csv(snakemake.input.sheet[0], sep="\t", dtype=str, keep_default_na=False)
    samples = samples.assign(path=samples["sample"].map(cels.set_index("sample")["file"]))
loaded = affymetrix.load(snakemake.params.source, samples, threads=snakemake.threads, cdf=cdf)
dataset = loaded.dataset
write_tsv(dataset.expression, snakemake.output.tsv)
with atomic_path(snakemake.output.parquet) as tmp:
    dataset.expression.to_parquet(tmp)
if snakemake.output.features:
    with atomic_path(snakemake.output.features[0]) as tmp:
        dataset.features.to_parquet(tmp)
write_tsv(loaded.quality, snakemake.output.quality)
write_npz(snakemake.output.qc, loaded.qc)
provenance = {**dataset.provenance, "transformation": value_transformation(dataset.provenance)}
with atomic_path(snakemake.output.provenance) as tmp:
    tmp.write_text(json.dumps(provenance, indent=1, sort_keys=True, default=str) + "\n")
print(f"RMA: {dataset.shape[0]} probe sets x {dataset.shape[1]} arrays ({dataset.provenance})")
