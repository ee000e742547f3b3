# One table with the summary of every comparison (the headline numbers of
# the report); the HTML report itself is `snakemake --report results/report.html`.


rule summarize_restoration:
    input:
        summaries=expand(
            "results/restoration/{comparison}/summary.tsv", comparison=COMPARISONS
        ),
        provenance="results/normalized/provenance.json",
    output:
        table=report(
            "results/restoration/summary.tsv",
            caption="../report/summary.rst",
            category="0. Summary",
            labels={"table": "restoration summary"},
        ),
    log:
        "logs/report/summarize_restoration.log",
    priority: RESULT_PATH
    conda:
        CONDA_ENV
    params:
        comparisons=COMPARISONS,
    script:
        "../scripts/summarize_restoration.py"
