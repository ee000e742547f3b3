# The restoration analysis of every comparison in the config: signature,
# statuses, fractions with Wilson and bootstrap intervals, the power-corrected
# fraction (issue 9), hypergeometric test, slope, Spearman correlation and
# connectivity score, the threshold-sensitivity grid, with figures; the
# headline sentence and figure open the report.
# At gene level (the default with an annotation) it reads
# results/normalized/gene.parquet, at probe-set level
# results/normalized/probeset.parquet (without the AFFX- controls), and fits
# its contrasts with the diffexp job's function (sigrestore.pipeline.level_tables:
# the tables equal the .genes.tsv / .tsv tables), so it starts without waiting
# for the diffexp job's figures (sigrestore.pipeline.analyze_restoration).
# The count source's gene level is one table row per symbol; the bootstrap's
# voom refits fit the same rows.


rule restoration:
    input:
        matrix=comparison_matrix,
        features=comparison_features,
        weights=comparison_weights,
        filtered=rules.feature_matrices.output.filtered,
        # The count source's bootstrap refits through voom: the kept counts and
        # (in the provenance) their library sizes and TMM factors.
        counts=[f"results/normalized/{name}.parquet" for name in SOURCE_TABLES],
        provenance="results/normalized/provenance.json",
        # ... on the rows the gene level chose (counts at gene level).
        rows=comparison_rows,
    output:
        **reported_figures(
            "results/restoration/{comparison}",
            HEADLINE_FIGURES,
            category="0. Headline",
            subcategory="{comparison}",
        ),
        **reported_figures(
            "results/restoration/{comparison}",
            RESTORATION_FIGURES,
            category="3. Restoration",
            subcategory="{comparison}",
        ),
        headline=report(
            ensure("results/restoration/{comparison}/headline.tsv", non_empty=True),
            caption="../report/restoration_headline.rst",
            category="0. Headline",
            subcategory="{comparison}",
            labels={"comparison": "{comparison}", "table": "headline"},
        ),
        threshold_sensitivity=report(
            ensure(
                "results/restoration/{comparison}/threshold_sensitivity.tsv",
                non_empty=True,
            ),
            caption="../report/restoration_sensitivity.rst",
            category="3. Restoration",
            subcategory="{comparison}",
            labels={"comparison": "{comparison}", "table": "threshold sensitivity"},
        ),
        summary=report(
            ensure("results/restoration/{comparison}/summary.tsv", non_empty=True),
            caption="../report/restoration_summary.rst",
            category="3. Restoration",
            subcategory="{comparison}",
            labels={"comparison": "{comparison}", "table": "summary"},
        ),
        features=report(
            ensure("results/restoration/{comparison}/features.tsv", non_empty=True),
            caption="../report/restoration_features.rst",
            category="3. Restoration",
            subcategory="{comparison}",
            labels={"comparison": "{comparison}", "table": "features"},
        ),
        bootstrap=report(
            "results/restoration/{comparison}/bootstrap.tsv",
            caption="../report/restoration_bootstrap.rst",
            category="3. Restoration",
            subcategory="{comparison}",
            labels={"comparison": "{comparison}", "table": "bootstrap resamples"},
        ),
    log:
        "logs/restoration/{comparison}.log",
    benchmark:
        "results/benchmarks/restoration/{comparison}.tsv"
    priority: RESULT_PATH
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        spec=lambda wildcards: SETTINGS.comparison(wildcards.comparison),
        samples=SHEET,
        de=SETTINGS.de,
        fingerprint=lambda wildcards: fingerprint(
            SETTINGS.comparison(wildcards.comparison), SETTINGS.de
        ),
        contrasts=SETTINGS.contrasts,
        counts=SOURCE if SETTINGS.source == "counts" else None,
    script:
        "../scripts/restoration.py"
