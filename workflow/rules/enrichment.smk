# gseapy prerank of every contrast's moderated-t ranking against the gene-set
# collections of the config (GMT files, read offline), seeded; one job.


rule enrichment:
    input:
        tables=expand(ENRICHMENT_RANKING, contrast=CONTRASTS),
        gene_sets=GENE_SETS,
    output:
        tables=report(
            expand("results/enrichment/{contrast}.tsv", contrast=CONTRASTS),
            caption="../report/enrichment_table.rst",
            category="4. Enrichment",
        ),
    log:
        "logs/enrichment/enrichment.log",
    benchmark:
        "results/benchmarks/enrichment/enrichment.tsv"
    conda:
        CONDA_ENV
    threads: 1
    params:
        contrasts=CONTRASTS,
        settings=SETTINGS.enrichment,
        fingerprint=fingerprint(SETTINGS.enrichment),
    script:
        "../scripts/enrichment.py"
