"""RMA over all arrays: expression matrix (TSV + parquet), QC table, QC data."""

import pickle
import sys

from sigrestore.atomic import atomic_path, write_tsv
from sigrestore.errors import SigrestoreError
from sigrestore.io import read_cdf_cache
from sigrestore.preprocess import run_rma

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

cdf = read_cdf_cache(snakemake.input.cdf)
if cdf is None:
    raise SigrestoreError(f"{snakemake.input.cdf}: unreadable CDF cache; delete it and rerun")
result = run_rma(
    list(snakemake.input.arrays),
    cdf,
    sample_names=snakemake.params.samples,
    background=snakemake.params.background,
    normalize=snakemake.params.normalize,
    n_jobs=snakemake.threads,
)
expression = result.expression.rename_axis("probeset")
write_tsv(expression, snakemake.output.tsv)
with atomic_path(snakemake.output.parquet) as tmp:
    expression.to_parquet(tmp)
write_tsv(result.qc, snakemake.output.quality)
with atomic_path(snakemake.output.qc) as tmp, open(tmp, "wb") as fh:
    pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
print(f"RMA: {expression.shape[0]} probe sets x {expression.shape[1]} arrays")
