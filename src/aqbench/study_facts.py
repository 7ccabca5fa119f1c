"""What the original study reported: the facts the paper sets beside this build's numbers.

They are the study's published figures, not measurements of this build, so they are
constants here (one place) and reach the paper as macros like every other number. Sources:
the study's slides and the Lithops 2.7 log it showed (quoted per fact), and Lithops' own
code for what ``map(..., chunksize=N)`` means: one *activation* (call) per item of the
iterable, one *worker* (one Lambda invocation) per chunk of N activations, which that worker
runs one after another (``lithops/invokers.py`` chunks the call ids; with aws_lambda's one
worker process, ``lithops/worker/handler.py`` runs a chunk's calls in sequence).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

DATA_GB = 50
"""The study's dataset: about 50 GB of OpenAQ realtime measurements..."""

OBJECT_MB = 25
"""...split into objects of about 25 MB (df0 ... dfN)."""

WARMUP_ACTIVATIONS = 1979
"""The warm-up, ``fexec.map(day_average_map, objs, chunksize=2)``: its log's "Total: 1979
activations", one object each: 1979 x 25 MB is about the whole 50 GB."""

WARMUP_CHUNKSIZE = 2
"""...two activations per worker, run in sequence..."""

WARMUP_WORKERS = math.ceil(WARMUP_ACTIVATIONS / WARMUP_CHUNKSIZE)
"""...so 990 Lambdas (the slide: "990 Lambdas processing whole dataset in about a minute")."""

WARMUP_LOG = ("02:10:12", "02:11:22")
"""The warm-up's log: executor created, then cleaning."""

WARMUP_WALL_S = 70
"""02:10:12 to 02:11:22."""

LITHOPS_VERSION = "2.7"
"""The Lithops the study ran (its log's format and its invoker's)."""

MEMORY_SIZES_MB = (1024, 2048, 3538)
"""The memory sizes the study measured; the warm-up and the timeout run were at the first."""

WARMUP_MEMORY_MB = 1024

TIMEOUT_S = 900
"""Lambda's limit, which the study's all-objects-in-one-worker run hit."""

TIMEOUT_ACTIVATIONS = 1099
"""That run, ``chunksize=len(objs)``: 1099 activations in one Lambda, in sequence..."""

TIMEOUT_DONE = 19
"""...of which 19 had finished when the timeout struck (its progress bar: 19/1099)."""

VISIBLE_CORES_2048 = 2
"""At 2048 MB the study's functions saw two cores..."""

SCALED_CORES_2048 = 1.15
"""...and it scaled their utilisation to 2048/1769 = 1.15 vCPUs."""

BILL_USD = 65.70
"""Its bill: $65.70 over two days of testing..."""

CREDIT_USD = 100
"""...and an AWS Academy (Vocareum) notice of a $100 credit exhausted ("-$24.42 out of $100")."""

CREDIT_NOTICE_EXPIRES = "11-03-2022"
"""The notice's own "Expires:" date: the lab account's, earlier than the study's runs of January 2023,
so the notice does not date the runs and may be of another lab account; it is quoted, not used."""


MONITOR_SLACK_S = 5
"""Lithops 2.7.1, ``lithops/monitor.py`` (``_future_timeout_checker``): a future it has marked running
times out at the moment it first saw it running plus its ``execution_timeout`` plus 5 s."""

EXECUTION_TIMEOUT_MARGIN_S = 5
"""``lithops/job/job.py`` (``_create_job``): on a serverless backend ``execution_timeout`` (1800 s by
default, ``lithops/constants.py``) is cut to the runtime's timeout less 5 s when not below it."""

INVOKED = "21:00:19.016"
"""The timeout run's log: "Starting function invocation: day_average_map() - Total: 1099 activations"."""

TIMED_OUT = "21:30:15.902"
"""...and Lithops' "Cleaning temporary data" with its TimeoutError, the job's end."""


def _clock(text: str) -> float:
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


POLL_S = 2
"""Lithops 2.7.1's storage monitor polls every 2 s (``lithops/constants.py``, ``MONITORING_INTERVAL``, the
default the study's config left): it first sees an activation running up to that long after it began."""


def timeout_reading(start_s: tuple[float, float] = (0.0, 0.0)) -> dict[str, float]:
    """What Lithops 2.7.1's TimeoutError at 21:30:15 says about the timeout run.

    The monitor marks an activation running when it first sees its start in storage and raises the
    TimeoutError ``execution_timeout + 5`` s later: 900 - 5 + 5 = 900 s with the study's 900 s
    runtime timeout. The error came 1,797 s after the invocation, so the activation it waited for
    (the 20th: 19 were done) was first seen about 1,797 - 900 = 897 s after the invocation, and began
    up to one poll (2 s) before: 19 activations and the worker's start (``start_s``, a range) took that
    long, just inside Lambda's 900 s limit that then killed the 20th. Lambda retries a failed
    asynchronous invocation (twice by default); a retry reruns the chunk from its first activation,
    whose calls Lithops had already counted done, so it cannot raise the count above 19 within the
    remaining 15 minutes (it would need more than 19 activations' time): the reading stays 19 in the
    first 900 s. Assumes the default storage monitor (the study's log shows no other)."""
    elapsed = _clock(TIMED_OUT) - _clock(INVOKED)
    timeout = TIMEOUT_S - EXECUTION_TIMEOUT_MARGIN_S + MONITOR_SLACK_S
    seen = elapsed - timeout
    return {
        "error_after_s": elapsed,
        "monitor_timeout_s": timeout,
        "twentieth_seen_s": seen,
        "poll_s": POLL_S,
        "per_activation_s": seen / TIMEOUT_DONE,
        "per_activation_low_s": (seen - POLL_S - start_s[1]) / TIMEOUT_DONE,
        "per_activation_high_s": (seen - start_s[0]) / TIMEOUT_DONE,
    }


def worker_start_s(values: Mapping[str, Any], ranges: Mapping[str, tuple[float, float]]) -> tuple[float, float]:
    """The timeout run's worker start for :func:`timeout_reading`: from nothing to a Lambda facts
    table's cold start (the top of its range, else its value)."""
    cold = float(values["cold_init_s"])
    return 0.0, ranges.get("cold_init_s", (cold, cold))[1]


def activation_s_from_timeout(start_s: tuple[float, float] | None = None) -> tuple[float, float]:
    """One activation's time (lowest, highest) that the timeout run implies, read as Lithops 2.7.1
    counts it (:func:`timeout_reading`): the one reading the paper quotes, the model's implied cost
    is solved from and the study's code is judged against. ``start_s`` is the worker's start, from
    nothing to Lambda's published cold start (``cold_init_s`` in workflow/config/lambda_facts.yaml)
    unless given. The cruder bounds, 900 s / 20 to 900 s / 19, hold it."""
    if start_s is None:
        from aqbench.lambda_facts import facts

        start_s = worker_start_s(facts().values, facts().ranges)
    reading = timeout_reading(start_s)
    return reading["per_activation_low_s"], reading["per_activation_high_s"]


def activation_s_from_warmup() -> float:
    """The most one activation can have taken in the warm-up: two in a row within its 70 s."""
    return WARMUP_WALL_S / WARMUP_CHUNKSIZE
