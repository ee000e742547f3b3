# limma's moderated statistics of every contrast of the config in one job: the
# model (the cell-means fit over all arrays) and so the moderation are the same
# for every contrast, so one fit per level serves them all.  Per contrast: the
# probe-set table, a gene-level table when an annotation is given, volcano and
# MA plot (coloured with differential_expression.fdr and lfc).  The job reads
# the feature matrices computed once (preprocess.smk) and, for the count
# source, voom's observation weights.


rule diffexp:
    input:
        probesets=rules.feature_matrices.output.probesets,
        filtered=rules.feature_matrices.output.filtered,
        genes=GENE_MATRIX,
        features=FEATURE_ANNOTATION,
        weights=WEIGHTS,
        gene_weights=GENE_WEIGHTS,
    output:
        **diffexp_outputs(),
    log:
        "logs/diffexp/diffexp.log",
    benchmark:
        "results/benchmarks/diffexp/diffexp.tsv"
    priority: CRITICAL_PATH
    conda:
        CONDA_ENV
    params:
        samples=SHEET,
        de=SETTINGS.de,
        fingerprint=fingerprint(SETTINGS.de),
        contrasts=SETTINGS.contrasts,
        figure_formats=FIGURE_FORMATS,
    script:
        "../scripts/diffexp.py"
