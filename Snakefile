# aqbench: serverless (Lithops) versus cluster (Dask) analysis of OpenAQ data.
# Run: `snakemake -c2` (default profile) or `snakemake -c2 --configfile workflow/config/tiny.yaml`.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "workflow/config/default.yaml"


validate(config, "workflow/config/schema.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/run.smk"
include: "workflow/rules/storage.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/aws.smk"
include: "workflow/rules/lithops.smk"
include: "workflow/rules/dask.smk"
include: "workflow/rules/duckdb.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/scale.smk"
include: "workflow/rules/study2023.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/paper.smk"


rule all:
    default_target: True
    input:
        final_targets(),
