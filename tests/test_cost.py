"""The cost model: Lambda billed per millisecond by memory, plus requests; Dask by instance-hours."""

from __future__ import annotations

import math

import pytest

from aqbench.cost import Prices, instance_run_cost, invocation_fixed_cost, lambda_call_cost, lithops_run_cost

PRICES = Prices("2026-11", "test", 0.0000166667, 0.0000133334, 0.0000002, 0.0000004, 0.000005, "m5.large", 0.096, 2)
LOGS = invocation_fixed_cost(PRICES) - PRICES.lambda_request
"""An invocation's log lines ingested by CloudWatch Logs."""


def test_lambda_is_billed_per_started_millisecond():
    one_gb_second = 0.0000166667 + 0.0000002
    assert lambda_call_cost(1.0, 1024, PRICES) == pytest.approx(one_gb_second)
    assert lambda_call_cost(1.0001, 1024, PRICES) == pytest.approx(1.001 * 0.0000166667 + 0.0000002)
    assert lambda_call_cost(2.0, 512, PRICES, arch="arm64") == pytest.approx(0.0000133334 + 0.0000002)


def test_a_run_adds_s3_requests():
    calls = [
        {"phase": "map", "duration_s": 1.0, "memory_mb": 2048, "objects": 2, "reducers": 4},
        {"phase": "reduce", "duration_s": 0.5, "memory_mb": 2048, "objects": 3, "reducers": 4},
    ]
    expected = (2 * 0.0000166667 + 0.0000002 + LOGS + 2 * 0.0000004 + 4 * 0.000005) + (
        1 * 0.0000166667 + 0.0000002 + LOGS + 3 * 0.0000004 + 0.000005
    )
    assert math.isclose(lithops_run_cost(calls, PRICES), expected, rel_tol=1e-12)


def test_dask_is_priced_by_instance_hours():
    assert instance_run_cost(3600, 2, PRICES) == pytest.approx(0.096)
    assert instance_run_cost(1800, 3, PRICES) == pytest.approx(0.096)  # two instances for half an hour


def test_each_call_is_priced_at_its_architecture_and_billed_duration():
    x86 = {"phase": "reduce", "duration_s": 1.0, "memory_mb": 1024, "objects": 0, "architecture": "x86_64"}
    arm = x86 | {"architecture": "arm64"}
    s3 = PRICES.s3_put + LOGS
    assert lithops_run_cost([x86], PRICES) == pytest.approx(0.0000166667 + 0.0000002 + s3)
    assert lithops_run_cost([arm], PRICES) == pytest.approx(0.0000133334 + 0.0000002 + s3)
    # Lambda's own billed duration, where its REPORT line gave one, wins over the measured one
    billed = x86 | {"billed_duration_s": 2.0}
    assert lithops_run_cost([billed], PRICES) == pytest.approx(2 * 0.0000166667 + 0.0000002 + s3)
    assert lithops_run_cost([x86 | {"billed_duration_s": float("nan")}], PRICES) == lithops_run_cost([x86], PRICES)


CALL = {"run_id": "r", "phase": "map", "memory_mb": 1024, "objects": 1, "reducers": 1}
S3 = PRICES.s3_get + PRICES.s3_put


def test_an_invocation_lambda_reported_is_billed_once_for_all_its_activations():
    """Two activations of one worker (chunksize 2) share one REPORT line: one billed duration, one request."""
    worker = CALL | {"invocation": "map-a0-w0", "lithops_activation_id": "req-1", "report_source": "lambda REPORT",
                     "invocation_billed_s": 3.0, "duration_s": 1.4}  # fmt: skip
    rows = [worker, worker | {"duration_s": 1.5}]
    expected = 3.0 * 0.0000166667 + invocation_fixed_cost(PRICES) + 2 * S3
    assert lithops_run_cost(rows, PRICES) == pytest.approx(expected)


def test_a_call_that_never_reported_is_charged_at_its_timeout_and_lambdas_retries():
    lost = CALL | {"invocation": "map-a0-w0", "status": "error", "duration_s": None}
    once = 60 * 0.0000166667 + invocation_fixed_cost(PRICES) + S3
    assert lithops_run_cost([lost], PRICES, timeout_s=60) == pytest.approx(once)
    assert lithops_run_cost([lost], PRICES, timeout_s=5000) == pytest.approx(  # Lambda stops it at 900 s
        900 * 0.0000166667 + invocation_fixed_cost(PRICES) + S3
    )
    # Lambda runs a failed asynchronous invocation again, twice by default
    retried = 3 * (60 * 0.0000166667 + invocation_fixed_cost(PRICES)) + S3
    assert lithops_run_cost([lost], PRICES, timeout_s=60, async_retries=2) == pytest.approx(retried)
    ok = CALL | {"invocation": "map-a0-w1", "status": "success", "duration_s": 1.0}
    assert lithops_run_cost([ok], PRICES, async_retries=2) == lithops_run_cost([ok], PRICES)
    # a function that raised ended its invocation normally (Lithops caught it): Lambda does not retry it
    raised = ok | {"status": "error", "error": "ValueError: x"}
    assert lithops_run_cost([raised], PRICES, async_retries=2) == lithops_run_cost([raised], PRICES)


def test_a_killed_worker_of_several_activations_is_charged_its_timeout_once():
    worker = CALL | {"invocation": "warmup-a0-w0", "status": "error", "duration_s": None}
    once = 60 * 0.0000166667 + invocation_fixed_cost(PRICES) + 2 * S3
    assert lithops_run_cost([worker, worker], PRICES, timeout_s=60) == pytest.approx(once)
    # activations that both reported: their durations add up in the one invocation
    done = [CALL | {"invocation": "map-a0-w0", "duration_s": d} for d in (1.0, 2.0)]
    assert lithops_run_cost(done, PRICES) == pytest.approx(3 * 0.0000166667 + invocation_fixed_cost(PRICES) + 2 * S3)
