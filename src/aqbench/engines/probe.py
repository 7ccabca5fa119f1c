"""The machine's practical limit, measured right before and right after each run.

A throughput is only comparable with a limit measured on the same machine at the same time:
shared machines drift (a build once divided by a limit measured minutes apart and printed
"1.10 of the machine's limit"). So every run is bracketed by a short probe, the bare parse and
group-by of one staged object (without its malformed lines) on every core, repeated for at
least ``MIN_SECONDS`` and ``MIN_REPEATS`` times; its best MB/s (a limit is what the machine can
do: a repetition slowed by a passing background process says nothing about that, and the
median of a few short repetitions moved by 30-40 % between the two ends of a quiet run here)
before and after go in the run's row, and the paper divides each run's throughput by its own
probes. A probe that moved more than ``report.max_probe_drift`` (the profile schema) within a
run says the machine changed under it.
"""

from __future__ import annotations

import time

MIN_SECONDS = 0.25
MIN_REPEATS = 5
"""Each probe parses at least this often and this long; its rate is the best repetition's."""


class Probe:
    """The bare parse + group-by of one staged object, cleaned once, timed on demand."""

    def __init__(self, body: bytes | bytearray):
        from aqbench.kernels.bare import cleaned

        self.body = cleaned(body)
        self.mb = len(self.body) / 1e6

    def mb_s(self) -> float:
        from aqbench.kernels.bare import bare_parse

        rates, spent = [], 0.0
        while spent < MIN_SECONDS or len(rates) < MIN_REPEATS:
            started = time.perf_counter()
            bare_parse(self.body)
            took = time.perf_counter() - started
            rates.append(self.mb / took)
            spent += took
        return max(rates)


def drift(before: float, after: float) -> float:
    """How far the after-probe moved from the before-probe (a share of the before-probe)."""
    return abs(after - before) / before
