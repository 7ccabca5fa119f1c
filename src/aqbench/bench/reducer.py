"""Benchmark: a reducer's fetch and merge of many partials, one after another against Lithops' way.

A reducer of a wide job merges one partial per map call. Here ``fan_in`` partials (each one of
R = 8 partitions of a 25 MB object's arrow partial, shifted a day apart so they do not collapse
into one group set, as in the kernel bench) are put into a local S3 server (SeaweedFS on
loopback), then merged by the arrow kernel's reduce fed by :func:`aqbench.engines.fetch.fetched`
with one request at a time (this build's reducer until 2026-12) and with Lithops' 64, interleaved,
in one run. Twice: on bare loopback (first byte in about a millisecond), and with every request
delayed as the ``data_locality`` experiment delays a non-local one (the same botocore hook the
emulated environments use), which stands for S3's published 100-200 ms first-byte latency on
Lambda. The serial figure is the reference each concurrent one is divided by.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

FAN_IN = 2000
"""Partials merged on loopback: the study's 1979 map calls, rounded."""

FAN_IN_DELAYED = 200
"""Partials merged with the per-request delay: one after another they take ``delay`` each."""


def _partials(fan_in: int) -> list[bytes]:
    from aqbench.bench.kernels import _shifted
    from aqbench.kernels import get_kernel
    from aqbench.kernels.partial import Partial, split
    from aqbench.sources.synth.generate import Generator, plan_dataset

    plan = plan_dataset("1GB", seed=1, object_size="25MB")
    body, _, _ = Generator(plan).object_bytes(plan.objects // 2)
    base = Partial.from_ipc(get_kernel("arrow").map(body, "o.ndjson", 1)[0])
    return [split(_shifted(base, i * plan.hours_per_object // 24), 8)[0].to_ipc() for i in range(fan_in)]


def _merge_s(store, keys: list[str], threads: int) -> float:
    from aqbench.engines.fetch import fetched
    from aqbench.kernels import get_kernel

    started = time.perf_counter()
    get_kernel("arrow").reduce(fetched(lambda key: bytes(store.get(key)), keys, threads))
    return time.perf_counter() - started


def run(fan_in: int = FAN_IN, fan_in_delayed: int = FAN_IN_DELAYED, delay_ms: float = 80.0,
        threads: int = 64, repeats: int = 3) -> dict[str, float]:  # fmt: skip
    """Median seconds of each merge, serial and concurrent, and their ratios, in one run."""
    from concurrent.futures import ThreadPoolExecutor

    from aqbench.storage import open_store
    from aqbench.storage.server import LocalS3Server

    parts = _partials(fan_in)
    times: dict[str, list[float]] = {k: [] for k in ("serial", "concurrent", "serial_delayed", "concurrent_delayed")}
    with tempfile.TemporaryDirectory(prefix="aqbench-bench-reducer-") as tmp:
        server = LocalS3Server(Path(tmp) / "s3")
        server.up()
        try:
            options = {"state_dir": server.state_dir}
            store = open_store("s3-local", "bench-reducer", options)
            store.ensure_bucket()
            keys = [f"map/{i:05d}/r000" for i in range(fan_in)]
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda kv: store.client.put_object(Bucket=store.bucket, Key=kv[0], Body=kv[1]),
                              zip(keys, parts, strict=True)))  # fmt: skip
            delayed = open_store("s3-local", "bench-reducer", options)
            delay = delay_ms / 1000
            delayed.client.meta.events.register("before-send.s3", lambda request, **kw: time.sleep(delay))
            _merge_s(store, keys, threads)  # untimed: the server's first reads
            for _ in range(repeats):  # interleaved: each pair under the same load
                times["serial"].append(_merge_s(store, keys, 1))
                times["concurrent"].append(_merge_s(store, keys, threads))
                times["serial_delayed"].append(_merge_s(delayed, keys[:fan_in_delayed], 1))
                times["concurrent_delayed"].append(_merge_s(delayed, keys[:fan_in_delayed], threads))
        finally:
            server.down()
    r: dict[str, float] = {"fan_in": fan_in, "fan_in_delayed": fan_in_delayed, "delay_ms": delay_ms,
                           "threads": threads, "repeats": repeats,
                           "partial_kb": statistics.median(len(p) for p in parts) / 1e3,
                           "cores": os.cpu_count() or 1}  # fmt: skip
    for name, values in times.items():
        r[f"{name}_s"] = statistics.median(values)
    r["concurrent_vs_serial"] = r["concurrent_s"] / r["serial_s"]
    r["concurrent_vs_serial_delayed"] = r["concurrent_delayed_s"] / r["serial_delayed_s"]
    return r


def report(r: dict[str, float]) -> str:
    return "\n".join([
        f"reducer: the arrow kernel's merge of partials fetched from a local S3 server, "
        f"one request at a time against {int(r['threads'])} at once (Lithops' reducer), interleaved, "
        f"medians of {int(r['repeats'])}; partials of {r['partial_kb']:.0f} kB, {int(r['cores'])} cores",
        f"  loopback, {int(r['fan_in'])} partials:       serial {r['serial_s']:6.1f} s   "
        f"concurrent {r['concurrent_s']:6.1f} s   concurrent/serial = {r['concurrent_vs_serial']:.2f}",
        f"  +{r['delay_ms']:.0f} ms a request, {int(r['fan_in_delayed'])} partials: "
        f"serial {r['serial_delayed_s']:6.1f} s   "
        f"concurrent {r['concurrent_delayed_s']:6.1f} s   concurrent/serial = {r['concurrent_vs_serial_delayed']:.2f}",
    ])  # fmt: skip
