# Raw files to a normalized expression matrix: each CEL file is read in its
# own job (the per-sample parallelism), then RMA runs over all arrays.


rule cdf_cache:
    input:
        cdf=config["platform"]["cdf"],
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


rule read_cel:
    input:
        cel=cel_file,
    output:
        intensity=temp("results/intensities/{sample}.npy"),
    log:
        "logs/preprocess/read_cel/{sample}.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/read_cel.py"


rule rma:
    input:
        arrays=expand("results/intensities/{sample}.npy", sample=SAMPLE_NAMES),
        cdf=rules.cdf_cache.output.cache,
    output:
        tsv=ensure("results/normalized/expression.tsv", non_empty=True),
        parquet=ensure("results/normalized/expression.parquet", non_empty=True),
        quality=report(
            ensure("results/qc/array_quality.tsv", non_empty=True),
            caption="../report/array_quality.rst",
            category="1. Quality control",
            subcategory="Array quality",
            labels={"table": "per-array quality"},
        ),
        qc=temp("results/qc/rma_qc.pkl"),
    log:
        "logs/preprocess/rma.log",
    benchmark:
        "results/benchmarks/preprocess/rma.tsv"
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=lambda wildcards, input, attempt: 2000 + 40 * len(input.arrays) * attempt,
    params:
        samples=SAMPLE_NAMES,
        background=config["normalization"]["background"],
        normalize=config["normalization"]["normalize"],
    script:
        "../scripts/rma.py"
