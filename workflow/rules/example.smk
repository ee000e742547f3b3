# The bundled simulated example. Its outputs are exactly the files the default
# config points at, so a config pointing at real data never triggers it.


rule simulate_example:
    output:
        cdf=EXAMPLE.cdf,
        cels=EXAMPLE.cels,
        annotation=EXAMPLE.annotation,
        gene_sets=EXAMPLE.gene_sets,
        samples=EXAMPLE.samples,
        truth=EXAMPLE.truth,
    log:
        "logs/example/simulate_example.log",
    benchmark:
        "results/benchmarks/example/simulate_example.tsv"
    conda:
        CONDA_ENV
    params:
        seed=config["seed"],
        example=config["example"],
    script:
        "../scripts/simulate_example.py"
