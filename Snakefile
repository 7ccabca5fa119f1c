# aqbench: serverless (Lithops) versus cluster (Dask) analysis of OpenAQ data.
# Run: `snakemake -c2` (default profile) or `snakemake -c2 --configfile workflow/config/tiny.yaml`.
from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "workflow/config/default.yaml"


try:
    validate(config, "workflow/config/schema.yaml")
except WorkflowError:  # one line (the key, what is wrong, how to fix it), not the schema
    import os
    import sys

    from aqbench.profile_errors import one_line

    line = None if os.environ.get("AQBENCH_SCHEMA_DUMP") else one_line(config, "workflow/config/schema.yaml")
    if line is None:
        raise
    print(f"aqbench: {line}", file=sys.stderr)
    sys.exit(1)


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
