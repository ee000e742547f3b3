# Raw files to the feature matrices, each computed once: the source's job
# writes the expression matrix, the feature annotation, the per-sample quality
# table and the provenance (which source, which transformation); then the
# expression filter gives results/normalized/probeset.parquet and the gene
# collapse results/normalized/gene.parquet, which every later job reads.
#
# The source's job is chosen by data.source (common.smk): Affymetrix (and GEO
# with raw: true) run RMA over the CEL files (rma); the matrix
# sources (geo, counts, illumina, agilent) run normalize_matrix.

EXPRESSION = "results/normalized/expression.parquet"
SOURCE_OUTPUTS = dict(
    tsv=ensure("results/normalized/expression.tsv", non_empty=True),
    parquet=ensure(EXPRESSION, non_empty=True),
    features=FEATURE_ANNOTATION,
    provenance="results/normalized/provenance.json",
    quality=report(
        ensure("results/qc/array_quality.tsv", non_empty=True),
        caption="../report/array_quality.rst",
        category="1. Quality control",
        subcategory="Array quality",
        labels={"table": "per-array quality"},
    ),
)


if GEO_MANIFEST:

    # Run where Snakemake runs (a cluster's login node has internet, compute
    # nodes often do not).
    localrules:
        geo_fetch,

    # GEO files into the cache (<cache_dir>/<accession>/): the series matrix
    # (or GDS SOFT), the platform annotation, the RAW tar with raw: true.
    # manifest.json is written last, so its presence means a complete fetch.
    rule geo_fetch:
        output:
            manifest=GEO_MANIFEST[0],
        log:
            "logs/preprocess/geo_fetch.log",
        retries: 1
        conda:
            CONDA_ENV
        params:
            fetch=SOURCE.fetch_settings(),
            fingerprint=fingerprint(SOURCE.fetch_settings()),
        script:
            "../scripts/geo_fetch.py"


if MATRIX_SOURCE:

    rule normalize_matrix:
        input:
            files=[path for _, path in SOURCE_INPUTS],
            fetched=GEO_MANIFEST,
        output:
            **SOURCE_OUTPUTS,
            **{name: f"results/normalized/{name}.parquet" for name in SOURCE_TABLES},
            weights=WEIGHTS,
        log:
            "logs/preprocess/normalize_matrix.log",
        benchmark:
            "results/benchmarks/preprocess/normalize_matrix.tsv"
        priority: CRITICAL_PATH
        conda:
            CONDA_ENV
        threads: 2
        params:
            kind=SETTINGS.source,
            samples=SAMPLES.reset_index(drop=True),
            source=SOURCE,
            design=SETTINGS.de.design,
            fingerprint=fingerprint(SOURCE, SETTINGS.de.design),
        script:
            "../scripts/normalize_matrix.py"

else:

    if GEO_RAW:

        # The series' CEL files unpacked from <GSE>_RAW.tar, and the sheet
        # with each GSM's CEL file, for the Affymetrix rules below.
        rule geo_raw:
            input:
                fetched=GEO_MANIFEST,
            output:
                cels=directory("results/geo/cel"),
                sheet="results/geo/samples.tsv",
            log:
                "logs/preprocess/geo_raw.log",
            priority: CRITICAL_PATH
            conda:
                CONDA_ENV
            params:
                samples=SHEET,
                source=SOURCE,
            script:
                "../scripts/geo_raw.py"

    rule rma:
        input:
            cels=rules.geo_raw.output.cels if GEO_RAW else SAMPLES["path"].tolist(),
            sheet=[rules.geo_raw.output.sheet] if GEO_RAW else [],
            cdf=AFFY.cdf,
            annotation=annotation_input,
        output:
            **SOURCE_OUTPUTS,
            qc=temp("results/qc/rma_qc.npz"),
        log:
            "logs/preprocess/rma.log",
        benchmark:
            "results/benchmarks/preprocess/rma.tsv"
        priority: CRITICAL_PATH
        conda:
            CONDA_ENV
        threads: 2
        resources:
            mem_mb=lambda wildcards, input, attempt: 2000 + 40 * len(SAMPLES) * attempt,
        params:
            samples=SAMPLES.reset_index(drop=True),
            source=AFFY,
            fingerprint=fingerprint(AFFY),
        script:
            "../scripts/rma.py"


# The feature matrices every later job reads, computed once in one job: the
# probe-set matrix (the expression filter applied) and, with an annotation,
# the gene matrix (the filtered probe sets collapsed; a weighted source, counts,
# keeps one row per gene with its voom weights and the chosen rows).
rule feature_matrices:
    input:
        expression=EXPRESSION,
        features=FEATURE_ANNOTATION,
        weights=WEIGHTS,
    output:
        probesets=ensure("results/normalized/probeset.parquet", non_empty=True),
        filtered="results/normalized/probeset.filter.tsv",
        genes=[ensure(path, non_empty=True) for path in GENE_MATRIX],
        gene_weights=GENE_WEIGHTS,
        gene_rows=GENE_ROWS,
    log:
        "logs/preprocess/feature_matrices.log",
    benchmark:
        "results/benchmarks/preprocess/feature_matrices.tsv"
    priority: CRITICAL_PATH
    conda:
        CONDA_ENV
    params:
        samples=SHEET,
        de=SETTINGS.de,
        fingerprint=fingerprint(SETTINGS.de),
    script:
        "../scripts/feature_matrices.py"
