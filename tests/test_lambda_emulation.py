"""Lambda emulation with cgroups: CPU in proportion to memory, and the memory limit enforced."""

from __future__ import annotations

import multiprocessing as mp
import time

import pytest

from aqbench.engines import lambda_emulation as le

needs_cgroups = pytest.mark.skipif(not le.available()[0], reason="no writable cgroup v1 hierarchy on this host")


def _busy(memory_mb: int, run: str, queue) -> None:
    emulation = le.enter(memory_mb, run, "c0")
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < 1.5:
        pass
    queue.put((emulation.emulated, (time.process_time() - cpu0) / (time.perf_counter() - wall0)))


def _hog(run: str) -> None:
    le.enter(160, run, "c0")
    block = bytearray(400 << 20)
    for i in range(0, len(block), 4096):
        block[i] = 1


@needs_cgroups
def test_a_busy_call_at_884_mb_gets_half_a_core():
    queue = mp.get_context("fork").Queue()
    proc = mp.get_context("fork").Process(target=_busy, args=(884, "pytest-cpu", queue))
    proc.start()
    proc.join()
    le.cleanup("pytest-cpu")
    emulated, share = queue.get()
    assert emulated and 0.45 <= share <= 0.55


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
    assert le.cpu_share(1769) == 1.0
    assert [le.visible_cores(m) for m in (1024, 3008, 3538, 7076, 10240)] == [2, 2, 3, 4, 6]
    assert le.max_concurrency(1024, cores=2) == 3 and le.max_concurrency(3538, cores=2) == 1


def test_without_cgroups_calls_say_they_were_not_emulated(monkeypatch, tmp_path):
    monkeypatch.setattr(le, "CGROUP_ROOT", tmp_path)
    emulation = le.enter(1024, "x", "c0")
    assert not emulation.emulated and emulation.reason
