"""The paper's figures by name: the one list the workflow (a rule each) and the plotting module share.

Kept apart from :mod:`aqbench.report.figures` so that Snakemake can read it without
importing matplotlib; ``figures.PLOTS`` must name exactly these (a test checks).
"""

FIGURES: tuple[str, ...] = (
    "call_durations",
    "cpu_network",
    "network_transmission",
    "memory_use",
    "call_timeline",
    "worker_lifetimes",
    "study_cost",
    "cost",
    "scaled_utilisation",
    "map_pm10_average",
    "map_pm10_max",
    "engines",
    "cost_vs_duration",
    "kernel_throughput",
    "cold_warm",
    "locality",
)

SCALE_FIGURES: tuple[str, ...] = (
    "scale_validation",
    "scale_cost_speed",
    "scale_sensitivity",
)
"""Figures of the scale simulation: drawn from ``results/<profile>/scale`` (rule scale_*)."""
