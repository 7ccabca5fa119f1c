"""How fast the synthetic generator writes, on one core, beside the disk's own write speed."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from aqbench.sources.synth.generate import Generator, plan_dataset

TARGET_MB_S = 50.0


def run(size: str = "250MB", repeats: int = 3) -> dict[str, float]:
    """Median MB/s of generating ``size`` in one process, and of writing the same bytes raw."""
    plan = plan_dataset(size, seed=1)
    gen_rates, write_rates = [], []
    with tempfile.TemporaryDirectory(prefix="aqbench-bench-") as tmp:
        for _ in range(repeats):
            started = time.perf_counter()
            total = 0
            generator = Generator(plan)  # setup counted: it is part of every run
            bodies = []
            for i in range(plan.objects):
                body, _, _ = generator.object_bytes(i)
                Path(tmp, f"g{i}").write_bytes(body)
                total += len(body)
                if i < 4:
                    bodies.append(body)
            gen_rates.append(total / 1e6 / (time.perf_counter() - started))
            started = time.perf_counter()
            written = 0
            for i in range(plan.objects):
                body = bodies[i % len(bodies)]
                Path(tmp, f"w{i}").write_bytes(body)
                written += len(body)
            os.sync()
            write_rates.append(written / 1e6 / (time.perf_counter() - started))
    gen, write = statistics.median(gen_rates), statistics.median(write_rates)
    return {
        "size_mb": plan_dataset(size, seed=1).size / 1e6,
        "objects": plan.objects,
        "generate_mb_s": gen,
        "raw_write_mb_s": write,
        "ratio_to_raw_write": gen / write,
        "target_mb_s": TARGET_MB_S,
        "ratio_to_target": gen / TARGET_MB_S,
    }


def report(result: dict[str, float]) -> str:
    return (
        f"generator, one process, {result['size_mb']:.0f} MB in {result['objects']} objects (median of runs)\n"
        f"  generate         {result['generate_mb_s']:8.1f} MB/s\n"
        f"  raw write (ref)  {result['raw_write_mb_s']:8.1f} MB/s   generate/raw = {result['ratio_to_raw_write']:.2f}\n"
        f"  target           {result['target_mb_s']:8.1f} MB/s   generate/target = {result['ratio_to_target']:.2f}"
    )
