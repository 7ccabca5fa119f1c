"""This machine's CPU as /proc/cpuinfo names it: vendor, family, model and name.

Recorded with every run (``engines.runs.environment``) and every activation of the study's code,
so that CPU seconds measured here can be carried to another CPU by a published ratio
(``aqbench.study2023.cpu``), and a run on another machine kind takes its own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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
