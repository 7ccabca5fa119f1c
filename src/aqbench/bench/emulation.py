"""The emulated Lambda measured against what it was configured to give, in one run: a busy
call's CPU share beside M/1769 of a core, and an S3 read through an environment's link beside
the link's rate and beside unshaped loopback.

CPU: for each memory size, a process enters its call's cgroups (as every emulated call does)
and spins for ``spin_s``; its CPU time over its wall time is its share. A busy machine gives
it less than its quota, never more, so the tests assert only the bound and this prints how
close it came.

Network: a real local S3 server, one object, and for each rate a link of its own (an HTB class on
``lo``, as every emulated Lambda environment gets); the reads are interleaved over the
repeats (unshaped, then each link), and medians are reported. HTB counts headers against the
rate, so the payload comes to a little under it on a quiet machine; a busy machine pushes it
lower. This is the figure the emulation's network claims rest on, which is why it is measured
here and not asserted in a test.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

from aqbench.lambda_facts import facts

RATES_MBIT = (625, 200)
"""Lambda's per-environment rate (lithops.network.local_mbit) and the remote-region rate."""
MEMORY_MB = (512, 884, 1769)
"""Sizes below one vCPU, where the quota is the whole story (a single-threaded call uses one core at most)."""


def _spin(memory_mb: int, spin_s: float, queue) -> None:
    from aqbench.emulated import cgroups

    emulation = cgroups.enter(memory_mb, f"bench-cpu-{os.getppid()}", f"m{memory_mb}")
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < spin_s:
        pass
    queue.put((emulation.emulated, (time.process_time() - cpu0) / (time.perf_counter() - wall0)))


def cpu_shares(memory_mb: tuple[int, ...] = MEMORY_MB, repeats: int = 3, spin_s: float = 1.5) -> dict[str, float]:
    """Median CPU share of a busy call at each memory size, beside its quota M/1769."""
    from aqbench.emulated import cgroups
    from aqbench.errors import ConfigError

    usable, why = cgroups.available()
    if not usable:
        raise ConfigError(f"bench emulation needs a writable cgroup v1 hierarchy (root): {why}")
    context = mp.get_context("fork")
    shares: dict[int, list[float]] = {m: [] for m in memory_mb}
    run = f"bench-cpu-{os.getpid()}"
    try:
        for _ in range(repeats):  # interleaved over the sizes
            for m in memory_mb:
                queue = context.Queue()
                proc = context.Process(target=_spin, args=(m, spin_s, queue))
                proc.start()
                emulated, share = queue.get()
                proc.join()
                if not emulated:
                    raise ConfigError("the call could not enter its cgroups: nothing was emulated")
                shares[m].append(share)
    finally:
        cgroups.cleanup(run)
    result: dict[str, float] = {}
    for m in memory_mb:
        quota = facts().vcpus(m)
        result[f"cpu_{m}_quota"] = quota
        result[f"cpu_{m}_share"] = statistics.median(shares[m])
        result[f"cpu_{m}_ratio_to_quota"] = result[f"cpu_{m}_share"] / quota
    return result


def _read_mb_s(store, key: str, size: int) -> float:
    started = time.perf_counter()
    body = store.get(key)
    elapsed = time.perf_counter() - started
    if len(body) != size:
        raise RuntimeError(f"read {len(body)} bytes of {key}, expected {size}")
    return size / 1e6 / elapsed


def run(
    size_mb: int = 25, repeats: int = 3, rates: tuple[int, ...] = RATES_MBIT, spin_s: float = 1.5
) -> dict[str, float]:
    """The CPU shares, then the links: each figure beside its configured value."""
    return cpu_shares(repeats=repeats, spin_s=spin_s) | link_rates(size_mb, repeats, rates)


def link_rates(size_mb: int = 25, repeats: int = 3, rates: tuple[int, ...] = RATES_MBIT) -> dict[str, float]:
    """Median payload MB/s through a link at each of ``rates``, and unshaped, in one run."""
    from aqbench.emulated import network as lambda_network
    from aqbench.errors import ConfigError
    from aqbench.storage import open_store
    from aqbench.storage.server import LocalS3Server

    shapeable, why = lambda_network.available()
    if not shapeable:
        raise ConfigError(f"bench emulation needs tc on lo (root with CAP_NET_ADMIN): {why.strip()}")
    size = size_mb * 1_000_000
    unshaped: list[float] = []
    shaped: dict[int, list[float]] = {mbit: [] for mbit in rates}
    with tempfile.TemporaryDirectory(prefix="aqbench-bench-network-") as tmp:
        server = LocalS3Server(Path(tmp) / "s3")
        server.up()
        shaper = lambda_network.Shaper(os.getpid() + 23)
        try:
            options = {"state_dir": server.state_dir}
            store = open_store("s3-local", "bench-network", options)
            store.ensure_bucket()
            store.client.put_object(Bucket=store.bucket, Key="object", Body=os.urandom(size))
            links = {mbit: shaper.add(number, mbit) for number, mbit in enumerate(rates, start=1)}
            readers = {}
            for mbit, link in links.items():
                with lambda_network.bound_connections(link.address):
                    readers[mbit] = open_store("s3-local", "bench-network", options)
                    readers[mbit].head("object")  # its connection opens now, from the link's address
            store.get("object")  # untimed: the server's first read of the object
            for _ in range(repeats):
                unshaped.append(_read_mb_s(store, "object", size))
                for mbit, reader in readers.items():
                    shaped[mbit].append(_read_mb_s(reader, "object", size))
        finally:
            shaper.close()
            server.down()
    result: dict[str, float] = {"size_mb": size_mb, "repeats": repeats, "unshaped_mb_s": statistics.median(unshaped)}
    for mbit in rates:
        configured = mbit / 8
        median = statistics.median(shaped[mbit])
        result[f"link_{mbit}_configured_mb_s"] = configured
        result[f"link_{mbit}_mb_s"] = median
        result[f"link_{mbit}_ratio_to_configured"] = median / configured
        result[f"link_{mbit}_ratio_to_unshaped"] = median / result["unshaped_mb_s"]
    return result


def report(r: dict[str, float]) -> str:
    lines = ["a busy call's CPU share in its cgroup (median of runs, interleaved)"]
    for m in sorted(int(k.split("_")[1]) for k in r if re.fullmatch(r"cpu_\d+_quota", k)):
        key = f"cpu_{m}_quota"
        lines.append(
            f"  {m:>5} MB   share {r[f'cpu_{m}_share']:5.3f}"
            f"   / quota {r[key]:.3f} = {r[f'cpu_{m}_ratio_to_quota']:.2f}"
        )
    lines.append(f"S3 reads of one {r['size_mb']:.0f} MB object on loopback (median of {r['repeats']:.0f})")
    lines.append(f"  unshaped loopback (ref)   {r['unshaped_mb_s']:8.1f} MB/s")
    for key in r:
        if key.endswith("_configured_mb_s"):
            mbit = key.split("_")[1]
            lines.append(
                f"  link {mbit:>4} Mbit/s         {r[f'link_{mbit}_mb_s']:8.1f} MB/s"
                f"   / configured {r[key]:.1f} MB/s = {r[f'link_{mbit}_ratio_to_configured']:.2f}"
                f"   / unshaped = {r[f'link_{mbit}_ratio_to_unshaped']:.3f}"
            )
    return "\n".join(lines)
