"""Lambda's CPU of 2023 against this host's: a ratio from published single-thread benchmarks.

The study's Lambda reported "Intel(R) Xeon(R) Processor @ 2.50GHz", family 6 model 63 (Haswell-EP).
No machine of ours has that CPU, and a figure typed from another of our machines would be a story,
so the ratio comes from a dated table of published benchmarks (``workflow/config/cpu_facts.yaml``),
one entry per host CPU family/model, each with its sources. The host is identified from
``/proc/cpuinfo`` when the activations are measured (the rows carry it), so a run on another machine
kind takes its own entry, or none: then the decomposition says the CPU factor is not known for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aqbench.defaults import SCHEMA
from aqbench.host_cpu import HostCpu
from aqbench.study2023.decomposition import Span

FACTS_FILE = SCHEMA.with_name("cpu_facts.yaml")


@dataclass(frozen=True)
class CpuRatio:
    """This host's single-thread speed over the study's Lambda CPU: Lambda's seconds are this host's
    times it."""

    span: Span
    host_name: str
    study_name: str
    sources: list[dict[str, Any]]


def read(path: Path = FACTS_FILE) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def ratio(cpu: HostCpu, table: dict[str, Any] | None = None) -> CpuRatio | None:
    """The table's ratio for ``cpu`` (vendor, family and model), computed from its published scores, or
    None when the table has no entry for it."""
    table = read() if table is None else table
    for entry in table["hosts"]:
        if entry["vendor"] == cpu.vendor and entry["family"] == cpu.family and cpu.model in entry["models"]:
            span = computed_ratio(entry, table)
            return CpuRatio(span, entry["name"], table["study_cpu"]["name"], entry["sources"])
    return None


def computed_ratio(entry: dict[str, Any], table: dict[str, Any]) -> Span:
    """Every instance's score over each Haswell end's, for each measure the table names: their least and
    greatest as the range, the geometric middle of those as the value."""
    ends = table["haswell"]
    ratios = [
        instance[measure] / ends[end][measure]
        for instance in entry["instances"]
        for measure in table["measures"]
        for end in ("low", "high")
    ]
    low, high = min(ratios), max(ratios)
    return Span(math.sqrt(low * high), low, high)
