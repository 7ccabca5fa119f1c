"""Emulating an AWS Lambda of M MB on this machine: its own cgroups (v1) per execution environment.

Lambda gives a function CPU in proportion to its memory (one vCPU per ``mb_per_vcpu`` MB, its
published facts: :mod:`aqbench.lambda_facts`) and kills it when it exceeds its memory. Here the
process that runs the calls moves itself into its own ``cpu`` group with quota M/``mb_per_vcpu``
of a core (``cpu.cfs_quota_us`` over a 100 ms period) and its own ``memory`` group limited to M MB
(exceeding it gets the process OOM-killed, as on Lambda). On the warm path that process is an
execution environment, which runs one call at a time and keeps its groups for its life, as a Lambda
environment keeps its quota; on the cold path (a process per call) it is the call. Two processes
never share a group: they would share its quota.
Where no writable cgroup v1 hierarchy exists, calls run unthrottled and say so
(``emulated=False``); nothing pretends.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from aqbench.lambda_facts import facts
from aqbench.procstat import rss_bytes

log = logging.getLogger(__name__)

PERIOD_US = 100_000
CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP = "aqbench"


@dataclass(frozen=True)
class Emulation:
    """What a call got: whether it was throttled, and how."""

    emulated: bool
    memory_mb: int
    cpu_share: float
    reason: str = ""


def _own_memory_group() -> Path:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return CGROUP_ROOT / "memory" / path.lstrip("/")
    raise OSError("no memory controller in /proc/self/cgroup")


def available() -> tuple[bool, str]:
    """Whether this host lets us create per-call cpu and memory groups (cgroup v1, writable)."""
    cpu = CGROUP_ROOT / "cpu"
    try:
        memory = _own_memory_group()
    except OSError as exc:
        return False, str(exc)
    for path in (cpu, memory):
        if not (path / "cgroup.procs").exists() or not os.access(path, os.W_OK):
            return False, f"{path} is not a writable cgroup v1 hierarchy"
    return True, ""


def _group_paths(run: str, call: str) -> tuple[Path, Path]:
    return CGROUP_ROOT / "cpu" / GROUP / run / call, _own_memory_group() / GROUP / run / call


def enter(memory_mb: int, run: str, call: str, resident: int | None = None) -> Emulation:
    """Move this process into fresh cpu and memory groups sized like a Lambda of ``memory_mb``.

    ``resident``: what this process holds now that stays charged to its old group (default: its
    RSS); 0 for a launcher about to ``exec`` the call's own program, whose pages then go."""
    ok, reason = available()
    share = facts().vcpus(memory_mb)
    if not ok:
        return Emulation(False, memory_mb, share, reason)
    cpu, memory = _group_paths(run, call)
    try:
        cpu.mkdir(parents=True, exist_ok=True)
        (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (cpu / "cpu.cfs_quota_us").write_text(str(max(1000, round(share * PERIOD_US))))
        memory.mkdir(parents=True, exist_ok=True)
        # Pages the process already holds stay charged to its old group (this kernel refuses
        # memory.move_charge_at_immigrate), so the new group gets M minus what is resident
        # now: the call's total, interpreter included, is held to about M, as on Lambda.
        resident = rss_bytes() if resident is None else resident
        limit = max(32 << 20, memory_mb * 1024 * 1024 - resident)
        (memory / "memory.limit_in_bytes").write_text(str(limit))
        pid = str(os.getpid())
        (memory / "cgroup.procs").write_text(pid)
        (cpu / "cgroup.procs").write_text(pid)
    except OSError as exc:
        log.warning("Lambda emulation unavailable: %s", exc)
        return Emulation(False, memory_mb, share, str(exc))
    return Emulation(True, memory_mb, share)


def was_oom_killed(run: str, call: str) -> bool:
    """After a call failed: did its memory group kill it for exceeding the limit?"""
    try:
        _, memory = _group_paths(run, call)
        control = (memory / "memory.oom_control").read_text()
    except OSError:
        return False
    fields = dict(line.split() for line in control.splitlines() if line.strip())
    return int(fields.get("oom_kill", "0")) > 0


def cleanup(run: str) -> None:
    """Remove the run's (now empty) groups; a group can only be removed once its calls ended."""
    try:
        roots = [CGROUP_ROOT / "cpu" / GROUP / run, _own_memory_group() / GROUP / run]
    except OSError:
        return
    for root in roots:
        if not root.exists():
            continue
        for child in sorted(root.iterdir(), reverse=True):
            if child.is_dir():
                try:
                    child.rmdir()
                except OSError:
                    shutil.rmtree(child, ignore_errors=True)
        try:
            root.rmdir()
        except OSError as exc:
            log.debug("could not remove %s: %s", root, exc)


def max_concurrency(memory_mb: int, cores: int | None = None) -> int:
    """How many emulated calls fit the host's cores at once (at least one)."""
    cores = cores or os.cpu_count() or 1
    return max(1, int(cores / facts().vcpus(memory_mb) + 1e-9))
