# Sample sheet, validation and helper functions shared by every stage.
#
# Everything here runs when the workflow is parsed, so a bad config, a bad
# sample sheet or a missing raw file stops Snakemake before any job starts.

import copy
import dataclasses
import os
import re
import sys

from snakemake.utils import validate

from sigrestore.config import check_config, example_sheet_table, read_sample_sheet
from sigrestore.errors import SigrestoreError
from sigrestore.simulate.experiment import example_files, example_spec
from sigrestore.sources import MATRIX_SOURCES, affymetrix, source_module

# A dataset's config given with --configfile replaces the bundled example's
# (config/config.yaml) instead of being merged into it: merged, the example's
# contrasts and comparisons would survive next to the dataset's own.
if workflow.overwrite_configfiles:
    config.clear()
    config.update(copy.deepcopy(workflow.config_settings.overwrite_config))

validate(config, schema="../schemas/config.schema.yaml")

# The example rule writes these; they need not exist before the run.
EXAMPLE = example_files(
    config["example"]["outdir"], example_spec(config["example"], seed=config["seed"])
)
EXAMPLE_FILES = [str(p) for p in EXAMPLE.all()]

# The example's own sheet comes from the simulator (it matches
# example.replicates whether or not the example rule has run).
try:
    _sheet = read_sample_sheet(config["samples"], table=example_sheet_table(config))
    validate(_sheet, schema="../schemas/samples.schema.yaml")
    # The config resolved once into typed settings (sigrestore.config.Settings);
    # rules pass its parts to the scripts and never re-read the config.
    SETTINGS = check_config(
        config,
        _sheet,
        pending=EXAMPLE_FILES,
        output_root="results",
        log=lambda line: print(line, file=sys.stderr),
    )
except SigrestoreError as exc:
    # The user's mistake in one plain message (exit status 1), without the
    # traceback Snakemake prints for an exception raised while parsing.
    sys.exit(f"sigrestore: error: {exc}")
SAMPLES = SETTINGS.samples.set_index("sample", drop=False)
# The sheet as the jobs see it (no file paths: they are the rules' inputs).
SHEET = SETTINGS.samples.drop(columns=["path"]).reset_index(drop=True)
SOURCE = SETTINGS.source_settings

# ---- the data source's job (preprocess.smk) and its QC (qc.smk) ----------
# GEO with raw: true is analysed from its CEL files by the Affymetrix rules
# (RMA); every other non-Affymetrix source gives a matrix (normalize_matrix),
# whose QC is the matrix's: distributions, PCA, correlation (no probe level).
GEO_RAW = SETTINGS.source == "geo" and SOURCE.raw
MATRIX_SOURCE = SETTINGS.source in MATRIX_SOURCES and not GEO_RAW
# Sources that fetch into a cache: the fetch rule's output (written last).
GEO_MANIFEST = (
    [str(SOURCE.folder / "manifest.json")]
    if (SETTINGS.source == "geo" and SOURCE.matrix is None)
    else []
)
# The Affymetrix source's settings for the RMA rules (GEO raw: data.affymetrix
# / platform give the CDF; the GEO annotation, when given, the genes).
AFFY = SOURCE
if GEO_RAW:
    AFFY = affymetrix.settings_from_config(config)
    if SOURCE.annotation:
        AFFY = dataclasses.replace(AFFY, annotation=SOURCE.annotation)
# Files the user gives for a matrix source (the rule's inputs).
SOURCE_INPUTS = (
    source_module(SETTINGS.source).input_files(SOURCE, SETTINGS.samples)
    if MATRIX_SOURCE
    else []
)
# Observation weights (voom's) of the count source, read by the fit.
WEIGHTS = ["results/normalized/weights.parquet"] if SETTINGS.source == "counts" else []
# The count job's kept counts (SourceResult.tables), which the restoration
# bootstrap refits through voom without reading the table again.
SOURCE_TABLES = ["counts"] if SETTINGS.source == "counts" else []

SAMPLE_NAMES = SAMPLES["sample"].tolist()
CONTRASTS = list(SETTINGS.contrasts)
COMPARISONS = [spec.name for spec in SETTINGS.comparisons]
HAS_ANNOTATION = SETTINGS.has_annotation
GENE_SETS = list(SETTINGS.gene_sets)
# Every figure in each of figures.formats (PNG first: the report shows it).
FIGURE_FORMATS = list(SETTINGS.figure_formats)
# Gene-level matrices and DE tables exist only when an annotation is given.
GENE_TABLE = ["results/diffexp/{contrast}.genes.tsv"] if HAS_ANNOTATION else []
GENE_MATRIX = ["results/normalized/gene.parquet"] if HAS_ANNOTATION else []
FEATURE_ANNOTATION = ["results/normalized/features.parquet"] if HAS_ANNOTATION else []
# The count source's gene level: one row of the table per symbol (the highest
# mean log-CPM), its voom weights row and the chosen rows, which the voom
# refits of the restoration bootstrap fit too.
GENE_WEIGHTS = (
    ["results/normalized/gene_weights.parquet"] if (WEIGHTS and HAS_ANNOTATION) else []
)
GENE_ROWS = ["results/normalized/gene_rows.tsv"] if GENE_WEIGHTS else []
# Enrichment ranks genes: the gene-level tables when there are any, else the
# probe-set tables (collapsed by sigrestore.enrichment if they carry genes).
ENRICHMENT_RANKING = (
    GENE_TABLE[0] if HAS_ANNOTATION else "results/diffexp/{contrast}.tsv"
)
CONDA_ENV = "../../envs/sigrestore.yaml"
# Which ready job takes a free core first (Snakemake's priority): the jobs
# that others wait for (source, feature matrices, diffexp, which the
# enrichment waits for), then the restoration and its summary, then the QC
# figures and the enrichment, which fill the cores around them.  On 2 cores
# and 102 arrays this order finishes about 1 s sooner than restoration-first.
CRITICAL_PATH = 10
RESULT_PATH = 5


def _alternatives(names):
    """A regular expression matching exactly one of ``names``."""
    return "|".join(re.escape(n) for n in names) if names else "(?!x)x"


wildcard_constraints:
    sample=_alternatives(SAMPLE_NAMES),
    contrast=_alternatives(CONTRASTS),
    comparison=_alternatives(COMPARISONS),
    fmt="png|svg|pdf",


def fingerprint(*settings):
    """The typed settings a rule passes, as text for Snakemake's params trigger.

    Snakemake records only builtin-typed params to decide reruns; the settings
    objects themselves are not recorded, so each rule also passes this repr
    (a changed setting reruns the job).
    """
    return repr(settings)


def annotation_input(wildcards):
    """The annotation file of the RMA rule, or nothing when the config gives none."""
    return AFFY.annotation if AFFY.annotation else []


def comparison_level(name):
    """Level of comparison ``name``: "gene" or "probeset" (null resolved)."""
    return SETTINGS.comparison(name).level


def comparison_matrix(wildcards):
    """The feature matrix at the comparison's level (computed once per level)."""
    return f"results/normalized/{comparison_level(wildcards.comparison)}.parquet"


def comparison_rows(wildcards):
    """The chosen row of each gene, for a count source's gene-level comparison."""
    return GENE_ROWS if comparison_level(wildcards.comparison) == "gene" else []


def comparison_weights(wildcards):
    """The observation weights of the comparison level's matrix (count source)."""
    gene = comparison_level(wildcards.comparison) == "gene"
    return GENE_WEIGHTS if gene else WEIGHTS


def comparison_features(wildcards):
    """The probe-set annotation, whose gene columns the probe-set tables carry."""
    gene = comparison_level(wildcards.comparison) == "gene"
    return [] if gene else FEATURE_ANNOTATION


def figures(stem):
    """The files of one figure, one per format of figures.formats."""
    return [f"{stem}.{fmt}" for fmt in FIGURE_FORMATS]


PROBE_QC_FIGURES = [
    "raw_boxplot",
    "raw_density",
    "normalized_boxplot",
    "normalized_density",
    "rle",
    "nuse",
    "residual_images",
]
# A matrix has no raw intensities nor probe-level fit: its value distributions.
MATRIX_QC_FIGURES = ["normalized_boxplot", "normalized_density"]
QC_FIGURES = MATRIX_QC_FIGURES if MATRIX_SOURCE else PROBE_QC_FIGURES
SAMPLE_FIGURES = ["pca", "correlation", "ma_plots"]
# The headline figure opens the report (category "0. Headline") with the status
# and scatter figures beside it; the other restoration figures follow in
# "3. Restoration".
HEADLINE_FIGURES = ["headline", "status", "scatter"]
RESTORATION_FIGURES = ["heatmap", "enrichment", "overlap", "sensitivity"]


def final_outputs():
    """Every file the workflow promises (the target of rule all)."""
    out = [
        "results/normalized/expression.tsv",
        "results/normalized/expression.parquet",
        "results/normalized/provenance.json",
        "results/qc/array_quality.tsv",
        "results/restoration/summary.tsv",
        "results/design/groups.tsv",
    ]
    for name in QC_FIGURES + SAMPLE_FIGURES:
        out += figures(f"results/qc/{name}")
    for c in CONTRASTS:
        out.append(f"results/diffexp/{c}.tsv")
        if HAS_ANNOTATION:
            out.append(f"results/diffexp/{c}.genes.tsv")
        out += figures(f"results/diffexp/{c}.volcano")
        out += figures(f"results/diffexp/{c}.ma")
        if GENE_SETS:
            out.append(f"results/enrichment/{c}.tsv")
    for name in COMPARISONS:
        out += [
            f"results/restoration/{name}/summary.tsv",
            f"results/restoration/{name}/features.tsv",
            f"results/restoration/{name}/threshold_sensitivity.tsv",
            f"results/restoration/{name}/headline.tsv",
        ]
        for fig in HEADLINE_FIGURES + RESTORATION_FIGURES:
            out += figures(f"results/restoration/{name}/{fig}")
    return out


def diffexp_outputs():
    """Named outputs of the diffexp job: per contrast ``c``, ``table_c``, ``genes_c``
    (with an annotation) and its volcano and MA plot in every figure format."""
    out = {}
    for c in CONTRASTS:
        out[f"table_{c}"] = report(
            ensure(f"results/diffexp/{c}.tsv", non_empty=True),
            caption="../report/diffexp_table.rst",
            category="2. Differential expression",
            subcategory=c,
            labels={"contrast": c, "table": "probe sets"},
        )
        if HAS_ANNOTATION:
            out[f"genes_{c}"] = ensure(f"results/diffexp/{c}.genes.tsv", non_empty=True)
        out.update(
            reported_figures(
                "results/diffexp",
                ["volcano", "ma"],
                category="2. Differential expression",
                subcategory=c,
                stem=f"{c}.",
                key_suffix=f"_{c}",
                labels={"contrast": c},
            )
        )
    return out


#: The report's label of a figure whose name does not read as one.
FIGURE_LABELS = {"ma": "MA plot"}


def reported_figures(
    directory, names, *, category, subcategory, stem="", key_suffix="", labels=None
):
    """Named outputs for a set of figures: PNGs in the report (captioned), the
    other formats of figures.formats beside them (``<name>_<format><key_suffix>``).

    The caption of figure ``name`` is ``workflow/report/<name>.rst``; its file is
    ``<directory>/<stem><name>.<format>``; ``labels`` are added to the figure's.
    """
    out = {}
    for name in names:
        path = f"{directory}/{stem}{name}"
        figure = FIGURE_LABELS.get(name, name.replace("_", " "))
        out[f"{name}_png{key_suffix}"] = report(
            f"{path}.png",
            caption=f"../report/{name}.rst",
            category=category,
            subcategory=subcategory,
            labels={**(labels or {}), "figure": figure},
        )
        for fmt in FIGURE_FORMATS[1:]:
            out[f"{name}_{fmt}{key_suffix}"] = f"{path}.{fmt}"
    return out
