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


def activation_s_from_timeout() -> tuple[float, float]:
    """One activation's time that the timeout run implies: 19 done and the 20th not, in 900 s.

    900 / 19 is an upper bound; 900 / 20 is one only if nothing else (the worker's start-up)
    took any of the 900 s: the lower end is that, less the start-up divided by 20."""
    return TIMEOUT_S / (TIMEOUT_DONE + 1), TIMEOUT_S / TIMEOUT_DONE


def activation_s_from_warmup() -> float:
    """The most one activation can have taken in the warm-up: two in a row within its 70 s."""
    return WARMUP_WALL_S / WARMUP_CHUNKSIZE
