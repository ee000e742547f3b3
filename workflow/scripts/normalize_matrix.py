"""A matrix source's job (GEO, counts, Illumina, Agilent): expression matrix (TSV +
parquet), feature annotation, observation weights (counts), per-sample quality
table and provenance, the same files the Affymetrix rma job writes."""

import json
import sys

import numpy as np

from sigrestore.atomic import atomic_path, write_tsv
from sigrestore.preprocess.matrixqc import matrix_qc
from sigrestore.sources import gene_features, source_module, value_transformation

# Everything the job prints goes to its log.
sys.stderr = sys.stdout = open(snakemake.log[0], "w")  # noqa: SIM115 - lives as long as the job

kind = snakemake.params.kind
design = snakemake.params.design
options = {"threads": snakemake.threads}
if kind == "counts":  # filterByExpr's groups and voom's design are the fit's
    options.update(factors=list(design.factors), covariates=list(design.covariates))
loaded = source_module(kind).load(snakemake.params.source, snakemake.params.samples, **options)
dataset = loaded.dataset
expression = dataset.expression.rename_axis("probeset")
write_tsv(expression, snakemake.output.tsv)
with atomic_path(snakemake.output.parquet) as tmp:
    expression.to_parquet(tmp)
if snakemake.output.features:
    # The probe-set tables carry gene_symbol and entrez_id (NaN when unknown).
    features = gene_features(dataset, kind)
    features = features.reindex(columns=["gene_symbol", "entrez_id"])
    features["entrez_id"] = features["entrez_id"].astype(object)
    with atomic_path(snakemake.output.features[0]) as tmp:
        features.rename_axis("probeset").to_parquet(tmp)
for name, table in loaded.tables.items():  # source-specific tables (counts: kept counts)
    with atomic_path(snakemake.output[name]) as tmp:
        table.to_parquet(tmp)
if snakemake.output.weights:
    with atomic_path(snakemake.output.weights[0]) as tmp:
        dataset.weights.rename_axis("probeset").to_parquet(tmp)
quality = matrix_qc(expression).qc
if loaded.quality is not None:  # the source's own per-sample figures (library sizes, ...)
    quality = loaded.quality.join(quality)
write_tsv(quality, snakemake.output.quality)
provenance = {**dataset.provenance, "transformation": value_transformation(dataset.provenance)}
with atomic_path(snakemake.output.provenance) as tmp:
    tmp.write_text(json.dumps(provenance, indent=1, sort_keys=True, default=str) + "\n")
print(
    f"{kind}: {expression.shape[0]} features x {expression.shape[1]} samples;"
    f" {provenance['transformation']}; {int(np.isnan(expression.to_numpy()).sum())} missing values"
)
