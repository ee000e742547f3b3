# Raw files to the feature matrices, each computed once: the source's job
# (Affymetrix: RMA over all CEL files, read streaming by the job itself) writes
# the probe-set matrix, the probe-set annotation and the QC data; then the
# expression filter gives results/normalized/probeset.parquet and the gene
# collapse results/normalized/gene.parquet, which every later job reads.


rule cdf_cache:
    input:
        cdf=SOURCE.cdf,
    output:
        cache="results/cache/cdf.npz",
    log:
        "logs/preprocess/cdf_cache.log",
    benchmark:
        "results/benchmarks/preprocess/cdf_cache.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/cdf_cache.py"


rule rma:
    input:
        cels=SAMPLES["path"].tolist(),
        cdf=rules.cdf_cache.output.cache,
        annotation=annotation_input,
    output:
        tsv=ensure("results/normalized/expression.tsv", non_empty=True),
        parquet=ensure("results/normalized/expression.parquet", non_empty=True),
        features=FEATURE_ANNOTATION,
        quality=report(
            ensure("results/qc/array_quality.tsv", non_empty=True),
            caption="../report/array_quality.rst",
            category="1. Quality control",
            subcategory="Array quality",
            labels={"table": "per-array quality"},
        ),
        qc=temp("results/qc/rma_qc.npz"),
    log:
        "logs/preprocess/rma.log",
    benchmark:
        "results/benchmarks/preprocess/rma.tsv"
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=lambda wildcards, input, attempt: 2000 + 40 * len(input.cels) * attempt,
    params:
        samples=SAMPLES.reset_index(drop=True),
        source=SOURCE,
        fingerprint=fingerprint(SOURCE),
    script:
        "../scripts/rma.py"


rule probeset_matrix:
    input:
        expression=rules.rma.output.parquet,
    output:
        matrix=ensure("results/normalized/probeset.parquet", non_empty=True),
        summary="results/normalized/probeset.filter.tsv",
    log:
        "logs/preprocess/probeset_matrix.log",
    conda:
        CONDA_ENV
    params:
        samples=SHEET,
        de=SETTINGS.de,
        fingerprint=fingerprint(SETTINGS.de),
    script:
        "../scripts/probeset_matrix.py"


rule gene_matrix:
    input:
        probesets=rules.probeset_matrix.output.matrix,
        features=FEATURE_ANNOTATION,
    output:
        matrix=ensure("results/normalized/gene.parquet", non_empty=True),
    log:
        "logs/preprocess/gene_matrix.log",
    conda:
        CONDA_ENV
    params:
        collapse=SETTINGS.de.collapse,
    script:
        "../scripts/gene_matrix.py"
