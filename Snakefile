# aqbench: serverless (Lithops) versus cluster (Dask) analysis of OpenAQ data.
# Run: `snakemake -c2` (default profile) or `snakemake -c2 --configfile workflow/config/tiny.yaml`.
import copy

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("9.0")


# A profile changes the schema's defaults and the study's design (workflow/config/design.yaml); the
# default profile is the one used when no --configfile names another (overlays such as faults.yaml
# and rebuild.yaml go after a profile), so no profile inherits, or has to undo, another's changes.
if not workflow.overwrite_configfiles:

    configfile: "workflow/config/default.yaml"


def validated(what, values):
    """``values`` validated against the schema (its defaults filled in); else one line (the key, what is
    wrong, how to fix it), not the schema, and exit 1."""
    try:
        validate(values, "workflow/config/schema.yaml")
    except WorkflowError:
        import os
        import sys

        from aqbench.profile_errors import one_line

        line = None if os.environ.get("AQBENCH_SCHEMA_DUMP") else one_line(values, "workflow/config/schema.yaml")
        if line is None:
            raise
        print(f"aqbench: {what}{line}", file=sys.stderr)
        sys.exit(1)


validated("", config)
with open(f"{workflow.basedir}/workflow/config/design.yaml", encoding="utf-8") as design_file:
    DESIGN = yaml.safe_load(design_file)
    """The study's design: every experiment of every engine and its grid (common.smk's EXPERIMENTS)."""
validated("workflow/config/design.yaml: ", copy.deepcopy(DESIGN))  # like a profile; a copy keeps it as written


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
