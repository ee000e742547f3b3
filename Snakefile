# sigrestore: raw Affymetrix arrays -> RMA -> limma -> signature restoration.
#
# This file is an index: everything else lives in workflow/rules/*.smk (one
# file per stage; common.smk holds the sample sheet, validation and helpers)
# and workflow/scripts/ (thin scripts calling the sigrestore package).


from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/example.smk"
include: "workflow/rules/preprocess.smk"
include: "workflow/rules/qc.smk"
include: "workflow/rules/design.smk"
include: "workflow/rules/diffexp.smk"
include: "workflow/rules/restoration.smk"
include: "workflow/rules/enrichment.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
