"""The study's experiments by name, for the code that selects their rows.

The design defines the experiments and their grids once (the ``experiments`` defaults of
``workflow/config/schema.yaml``, which every profile reads); the report and the figures pick an
experiment's rows by these constants, never by a string of their own, and a test holds every
constant to the design (an experiment renamed there fails the test, not the paper).
"""

from __future__ import annotations

# Lithops
WARMUP = "warmup"
MEMORY = "memory"
OBJECTS_PER_CALL = "objects_per_call"
REDUCERS = "reducers"
KERNELS = "kernels"
SCALING = "scaling"
TIMEOUT = "timeout"
DATA_LOCALITY = "data_locality"
STUDY_CODE = "study_code"
STUDY_OBJECTS = "study_objects"
# Dask
BASELINE = "baseline"
LAMBDA_TERMS = "lambda_terms"
# the single machine
SINGLE_NODE = "single_node"

BY_ENGINE: dict[str, tuple[str, ...]] = {
    "lithops": (WARMUP, MEMORY, OBJECTS_PER_CALL, REDUCERS, KERNELS, SCALING, TIMEOUT, DATA_LOCALITY, STUDY_CODE,
                STUDY_OBJECTS),
    "dask": (BASELINE, LAMBDA_TERMS, SCALING),
    "duckdb": (SINGLE_NODE,),
}  # fmt: skip
"""The experiments the code knows, per engine (the design may hold more: they run and are summarised)."""
