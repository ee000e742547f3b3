"""Restoration analysis of one comparison at its level (gene or probe set): tables and figures."""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")

import pandas as pd

from sigrestore.diffexp import FilterSummary
from sigrestore.diffexp.filtering import filter_message
from sigrestore.pipeline import analyze_restoration, level_tables

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job


def _chosen_rows(paths):
    """The count source's gene level: the table row chosen for each gene (or None)."""
    if not paths:
        return None
    rows = pd.read_csv(paths[0], sep="\t", index_col=0, dtype=str, keep_default_na=False)
    return rows["probeset"]


def _prepared_counts(paths, provenance):
    """The count job's kept counts and library sizes (or None: not the count source)."""
    if not paths:
        return None
    from sigrestore.sources.counts import prepared_from_outputs

    with open(provenance) as fh:
        return prepared_from_outputs(pd.read_parquet(paths[0]), json.load(fh))


spec = snakemake.params.spec
inputs = snakemake.input
filtered = FilterSummary.from_frame(pd.read_csv(inputs.filtered, sep="\t"))
matrix = pd.read_parquet(inputs.matrix)
# The comparison's limma tables, fitted as the diffexp job fits them (identical
# tables; this job need not wait for that one).
tables = level_tables(
    matrix,
    snakemake.params.samples,
    snakemake.params.de,
    contrasts={c: snakemake.params.contrasts[c] for c in spec.contrasts},
    features=pd.read_parquet(inputs.features[0]) if inputs.features else None,
    weights=pd.read_parquet(inputs.weights[0]) if inputs.weights else None,
)
outputs = analyze_restoration(
    tables,
    matrix,
    snakemake.params.samples,
    spec,
    snakemake.params.de,
    contrasts=snakemake.params.contrasts,
    filtered=filtered,
    counts=snakemake.params.counts,
    # The count source's gene level: the table row chosen for each gene.
    rows=_chosen_rows(snakemake.input.rows),
    prepared_counts=_prepared_counts(inputs.counts, inputs.provenance),
)
# Exactly the files the rule names (tables and figures), nothing else.
outputs.write_to({name: snakemake.output[name] for name in snakemake.output.keys()})  # noqa: SIM118 - iterating gives the paths
print(filter_message(filtered))
# The count source's bootstrap refits every resample through voom.
print(f"bootstrap refit: {'voom + limma' if snakemake.params.counts else 'limma'}")
row = outputs.result.summary.iloc[0]
print(f"level {row['level']}: {row['universe']} features, signature {row['signature_size']}")
# Snakemake exports OPENBLAS_NUM_THREADS etc. = the rule's threads to every job.
print(f"BLAS threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
