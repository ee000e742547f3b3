# The design as the model sees it: arrays per group (with their samples) and
# how each covariate enters, as a table in the report.


rule design_table:
    output:
        table=report(
            "results/design/groups.tsv",
            caption="../report/design_table.rst",
            category="2. Differential expression",
            labels={"table": "design: arrays per group"},
        ),
    log:
        "logs/design/design_table.log",
    conda:
        CONDA_ENV
    params:
        samples=SHEET,
        design=SETTINGS.de.design,
        fingerprint=fingerprint(SETTINGS.de.design),
    script:
        "../scripts/design_table.py"
