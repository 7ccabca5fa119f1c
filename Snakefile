# aqbench: serverless (Lithops) versus cluster (Dask) analysis of OpenAQ data.
# Run: `snakemake -c2` (default profile) or `snakemake -c2 --configfile workflow/config/tiny.yaml`.
from snakemake.utils import min_version

min_version("9.0")


# A profile changes the schema's defaults and the study's design (workflow/config/design.yaml); the
# default profile is the one used when no --configfile names another (overlays such as faults.yaml
# and rebuild.yaml go after a profile), so no profile inherits, or has to undo, another's changes.
if not workflow.overwrite_configfiles:

    configfile: "workflow/config/default.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/run.smk"
include: "workflow/rules/storage.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/aws.smk"
include: "workflow/rules/specs.smk"
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
