"""AWS Lambda's published facts, loaded once from their dated table, and the rules built on them.

Every part that needs one of Lambda's terms reads it here: the emulation (a call's CPU quota,
how many calls fit this host), the budget guard, the metrics (utilisation against the share),
the simulation and the paper. None keeps its own copy of 1,769 MB per vCPU or 625 Mbit/s. The
table, ``workflow/config/lambda_facts.yaml``, gives each fact's source and the date it was read;
the paper's appendix prints it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aqbench.defaults import SCHEMA

FACTS_FILE = SCHEMA.with_name("lambda_facts.yaml")
"""The dated table of published facts, beside the profile schema."""

VISIBLE_CORE_STEPS = ((3008, 2), (5307, 3), (7076, 4), (8845, 5))
"""Memory (MB) up to which a function sees this many cores (/proc/cpuinfo, measured across sizes:
https://github.com/rwnx/lambda-cpuinfo, the source of ``max_visible_cores``); above the last, the
table's maximum."""


@dataclass(frozen=True)
class LambdaFacts:
    """The table's values by name, with the few every module uses as typed fields."""

    values: dict[str, Any]
    ranges: dict[str, tuple[float, float]]
    quantiles: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]
    """Entries published as a distribution: (probabilities, values)."""
    source_ids: dict[str, str]
    """Each entry's source: a source that sets an input here never validates the simulation
    (:mod:`aqbench.scale.published`)."""
    mb_per_vcpu: float
    max_visible_cores: int
    timeout_s: float
    network_mbit: float

    @property
    def network_mb_s(self) -> float:
        """One environment's link in MB/s (no call reads faster)."""
        return self.network_mbit / 8

    def vcpus(self, memory_mb: float) -> float:
        """Lambda's CPU allotment for a memory size, in cores: memory over MB per vCPU. The emulation's
        CPU quota is this, and so is what the budget and the metrics divide by."""
        return memory_mb / self.mb_per_vcpu

    def visible_cores(self, memory_mb: float) -> int:
        """Cores a function of this size sees (its threads may run on them, within its allotment)."""
        for limit, cores in VISIBLE_CORE_STEPS:
            if memory_mb <= limit:
                return min(cores, self.max_visible_cores)
        return self.max_visible_cores


def read(path: Path) -> LambdaFacts:
    """The table at ``path`` (a user's copy with other values, for ``aqbench simulate --facts``)."""
    import yaml

    table = yaml.safe_load(path.read_text(encoding="utf-8"))["facts"]
    values = {name: entry["value"] for name, entry in table.items()}
    for name, entry in table.items():  # a distribution: its probabilities with its values
        if "quantiles" in entry:
            values[name] = (tuple(float(p) for p in entry["quantiles"]), tuple(float(v) for v in entry["value"]))
    ranges = {n: (float(e["range"][0]), float(e["range"][1])) for n, e in table.items() if "range" in e}
    quantiles = {n: values[n] for n, e in table.items() if "quantiles" in e}
    return LambdaFacts(
        values=values,
        ranges=ranges,
        quantiles=quantiles,
        source_ids={n: str(e.get("source_id", "")) for n, e in table.items()},
        mb_per_vcpu=float(values["mb_per_vcpu"]),
        max_visible_cores=int(values["max_visible_cores"]),
        timeout_s=float(values["timeout_s"]),
        network_mbit=float(values["network_mbit"]),
    )


@functools.cache
def facts() -> LambdaFacts:
    """The repository's table, read on first use (a Lambda runtime that never asks never reads it)."""
    return read(FACTS_FILE)


def call_share(memory_mb: float, max_cores: float = math.inf, mb_per_vcpu: float | None = None) -> float:
    """The CPU a call of ``memory_mb`` can use, in cores: its allotment (memory over MB per vCPU, the
    table's unless given), at most one core below two vCPUs (the map runs single-threaded there),
    else at most ``max_cores`` (the visible cores; 1 for a single-threaded kernel). The one rule the
    simulation, its calibration and the paper apply."""
    vcpus = memory_mb / (facts().mb_per_vcpu if mb_per_vcpu is None else mb_per_vcpu)
    return min(vcpus, max_cores) if vcpus >= 2 else min(vcpus, 1.0)
