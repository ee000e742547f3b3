# limma's moderated statistics, one job per contrast of the config (the
# model, and so the moderation, is the same cell-means fit over all arrays):
# the table, a gene-level table when an annotation is given, volcano and MA plot.


rule diffexp:
    input:
        expression=rules.rma.output.parquet,
        annotation=annotation_input,
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
        samples=SAMPLES.drop(columns=["path"]).reset_index(drop=True),
        design=config["design"],
        contrasts=lambda wildcards: {
            wildcards.contrast: config["contrasts"][wildcards.contrast]
        },
        options=config["differential_expression"],
        fdr=0.05,
    script:
        "../scripts/diffexp.py"
