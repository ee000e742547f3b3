"""Restoration analysis of one comparison: tables and figures."""

import functools
import sys
from pathlib import Path

import pandas as pd

from sigrestore.config import comparison_spec
from sigrestore.diffexp import differential_expression
from sigrestore.plotting.restoration import save_restoration_figures
from sigrestore.restoration import analyze_comparison, write_result

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

spec = comparison_spec(snakemake.params.comparison, seed=snakemake.params.seed)
tables = {
    Path(p).name.removesuffix(".tsv"): pd.read_csv(p, sep="\t", index_col=0)
    for p in snakemake.input.tables
}
expression = pd.read_parquet(snakemake.input.expression)
options = {k: v for k, v in snakemake.params.options.items() if k != "collapse"}
# The bootstrap reruns the same limma model on every resample of the arrays.
de_function = functools.partial(
    differential_expression,
    factors=snakemake.params.factors,
    contrasts={c: snakemake.params.contrasts[c] for c in spec.contrasts},
    covariates=snakemake.params.covariates,
    block=snakemake.params.block,
    **options,
)
result = analyze_comparison(
    tables,
    spec,
    expr=expression,
    samples=snakemake.params.samples,
    de_function=de_function,
    factors=snakemake.params.factors,
)
outdir = Path(snakemake.output.summary).parent
write_result(result, outdir)
save_restoration_figures(result, outdir, expr=expression, samples=snakemake.params.samples)
