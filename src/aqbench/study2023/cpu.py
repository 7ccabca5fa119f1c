"""Lambda's CPU of 2023 against this host's: a ratio from published single-thread benchmarks.

The study's Lambda reported "Intel(R) Xeon(R) Processor @ 2.50GHz", family 6 model 63 (Haswell-EP).
No machine of ours has that CPU, and a figure typed from another of our machines would be a story,
so the ratio comes from a dated table of published benchmarks (``workflow/config/cpu_facts.yaml``),
one entry per host CPU family/model, each with its sources. The host is identified from
``/proc/cpuinfo`` when the activations are measured (the rows carry it), so a run on another machine
kind takes its own entry, or none: then the decomposition says the CPU factor is not known for it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aqbench.defaults import SCHEMA
from aqbench.study2023.decomposition import Span

FACTS_FILE = SCHEMA.with_name("cpu_facts.yaml")


@dataclass(frozen=True)
class HostCpu:
    vendor: str
    family: int
    model: int
    name: str

    def as_row(self) -> dict[str, Any]:
        return {"cpu_vendor": self.vendor, "cpu_family": self.family, "cpu_model": self.model, "cpu_name": self.name}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> HostCpu:
        return cls(str(row["cpu_vendor"]), int(row["cpu_family"]), int(row["cpu_model"]), str(row["cpu_name"]))


def parse_cpuinfo(text: str) -> HostCpu:
    """The first processor's vendor, family, model and name from /proc/cpuinfo's text."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return HostCpu(
        fields.get("vendor_id", "?"),
        int(fields.get("cpu family", -1)),
        int(fields.get("model", -1)),
        fields.get("model name", "?"),
    )


@functools.cache
def host() -> HostCpu:
    """This machine's CPU (unknown fields where /proc/cpuinfo is absent)."""
    path = Path("/proc/cpuinfo")
    return parse_cpuinfo(path.read_text()) if path.exists() else HostCpu("?", -1, -1, "?")


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
