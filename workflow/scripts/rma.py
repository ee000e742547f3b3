"""The source's job (Affymetrix: RMA over all CEL files): expression matrix (TSV +
parquet), probe-set annotation, per-array quality table, QC data (.npz)."""

import sys

from sigrestore.atomic import atomic_path, write_tsv
from sigrestore.errors import SigrestoreError
from sigrestore.io import read_cdf_cache
from sigrestore.io.npz import write_npz
from sigrestore.sources import affymetrix

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

cdf = read_cdf_cache(snakemake.input.cdf)
if cdf is None:
    raise SigrestoreError(f"{snakemake.input.cdf}: unreadable CDF cache; delete it and rerun")
# The job reads the CEL files itself (streaming, in run_rma): the sheet's paths
# are this rule's inputs.
loaded = affymetrix.load(
    snakemake.params.source, snakemake.params.samples, threads=snakemake.threads, cdf=cdf
)
dataset = loaded.dataset
write_tsv(dataset.expression, snakemake.output.tsv)
with atomic_path(snakemake.output.parquet) as tmp:
    dataset.expression.to_parquet(tmp)
if snakemake.output.features:
    with atomic_path(snakemake.output.features[0]) as tmp:
        dataset.features.to_parquet(tmp)
write_tsv(loaded.quality, snakemake.output.quality)
write_npz(snakemake.output.qc, loaded.qc)
print(f"RMA: {dataset.shape[0]} probe sets x {dataset.shape[1]} arrays ({dataset.provenance})")
