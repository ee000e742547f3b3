# Array-quality figures, in one job: raw and normalized distributions, RLE,
# NUSE, residual pseudo-images (from RMA's QC data; a matrix source: its
# values' distributions only), and the sample-level views (PCA,
# sample-correlation heatmap, MA plots against the median array). Per-array
# panels are capped at qc.max_panels arrays (QC outliers first).


rule qc_figures:
    input:
        qc=[] if MATRIX_SOURCE else ["results/qc/rma_qc.npz"],
        expression=EXPRESSION,
        quality="results/qc/array_quality.tsv",
        provenance="results/normalized/provenance.json",
    output:
        **reported_figures(
            "results/qc",
            QC_FIGURES,
            category="1. Quality control",
            subcategory="Probe level",
        ),
        **reported_figures(
            "results/qc",
            SAMPLE_FIGURES,
            category="1. Quality control",
            subcategory="Samples",
        ),
    log:
        "logs/qc/qc_figures.log",
    benchmark:
        "results/benchmarks/qc/qc_figures.tsv"
    conda:
        CONDA_ENV
    params:
        groups=SAMPLES["group"].to_dict(),
        cap=SETTINGS.qc,
        figure_formats=FIGURE_FORMATS,
        fingerprint=fingerprint(SETTINGS.qc),
    script:
        "../scripts/qc_figures.py"
