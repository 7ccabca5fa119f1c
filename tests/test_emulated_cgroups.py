"""Lambda emulation with cgroups: CPU in proportion to memory, and the memory limit enforced."""

from __future__ import annotations

import multiprocessing as mp
import time

import pytest

from aqbench.emulated import cgroups as le

needs_cgroups = pytest.mark.skipif(not le.available()[0], reason="no writable cgroup v1 hierarchy on this host")


def _busy(memory_mb: int, run: str, queue) -> None:
    emulation = le.enter(memory_mb, run, "c0")
    cpu, _ = le._group_paths(run, "c0")
    quota = int((cpu / "cpu.cfs_quota_us").read_text()) / int((cpu / "cpu.cfs_period_us").read_text())
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < 1.5:
        pass
    queue.put((emulation.emulated, quota, (time.process_time() - cpu0) / (time.perf_counter() - wall0)))


def _hog(run: str) -> None:
    le.enter(160, run, "c0")
    block = bytearray(400 << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1


@needs_cgroups
def test_a_busy_call_at_884_mb_is_held_to_half_a_core():
    """The group's quota is 884/1769 of a core and a busy call never gets more (a busy machine
    may give it less, so how close it comes is measured by ``aqbench bench emulation``)."""
    queue = mp.get_context("fork").Queue()
    proc = mp.get_context("fork").Process(target=_busy, args=(884, "pytest-cpu", queue))
    proc.start()
    proc.join()
    le.cleanup("pytest-cpu")
    emulated, quota, share = queue.get()
    assert emulated and quota == pytest.approx(884 / 1769, abs=1e-3)
    assert 0 < share <= quota * 1.1  # CFS accounts per period: a little over the quota at most


@needs_cgroups
def test_exceeding_the_memory_size_kills_the_call_and_is_recognised():
    proc = mp.get_context("fork").Process(target=_hog, args=("pytest-oom",))
    proc.start()
    proc.join()
    try:
        assert proc.exitcode == -9 and le.was_oom_killed("pytest-oom", "c0")
    finally:
        le.cleanup("pytest-oom")


def test_lambda_facts():
    from aqbench.lambda_facts import facts

    assert facts().vcpus(1769) == 1.0
    assert [facts().visible_cores(m) for m in (1024, 3008, 3538, 7076, 10240)] == [2, 2, 3, 4, 6]
    assert le.max_concurrency(1024, cores=2) == 3 and le.max_concurrency(3538, cores=2) == 1


def test_without_cgroups_calls_say_they_were_not_emulated(monkeypatch, tmp_path):
    monkeypatch.setattr(le, "CGROUP_ROOT", tmp_path)
    emulation = le.enter(1024, "x", "c0")
    assert not emulation.emulated and emulation.reason
