# limma's moderated statistics, one job per contrast of the config (the
# model, and so the moderation, is the same cell-means fit over all arrays):
# the table, a gene-level table when an annotation is given, volcano and MA plot
# (coloured with differential_expression.fdr and lfc). The jobs read the
# feature matrices computed once (preprocess.smk) and, for the count source,
# voom's observation weights.


rule diffexp:
    input:
        probesets=rules.probeset_matrix.output.matrix,
        filtered=rules.probeset_matrix.output.summary,
        genes=GENE_MATRIX,
        features=FEATURE_ANNOTATION,
        weights=WEIGHTS,
        gene_weights=GENE_WEIGHTS,
    output:
        table=report(
            ensure("results/diffexp/{contrast}.tsv", non_empty=True),
            caption="../report/diffexp_table.rst",
            category="2. Differential expression",
            subcategory="{contrast}",
            labels={"contrast": "{contrast}", "table": "probe sets"},
        ),
        genes=GENE_TABLE,
        volcano_png=report(
            "results/diffexp/{contrast}.volcano.png",
            caption="../report/volcano.rst",
            category="2. Differential expression",
            subcategory="{contrast}",
            labels={"contrast": "{contrast}", "figure": "volcano"},
        ),
        volcano_svg="results/diffexp/{contrast}.volcano.svg",
        ma_png=report(
            "results/diffexp/{contrast}.ma.png",
            caption="../report/ma.rst",
            category="2. Differential expression",
            subcategory="{contrast}",
            labels={"contrast": "{contrast}", "figure": "MA plot"},
        ),
        ma_svg="results/diffexp/{contrast}.ma.svg",
    log:
        "logs/diffexp/{contrast}.log",
    benchmark:
        "results/benchmarks/diffexp/{contrast}.tsv"
    conda:
        CONDA_ENV
    params:
        samples=SHEET,
        de=SETTINGS.de,
        fingerprint=fingerprint(SETTINGS.de),
        contrasts=lambda wildcards: {
            wildcards.contrast: SETTINGS.contrasts[wildcards.contrast]
        },
    script:
        "../scripts/diffexp.py"
