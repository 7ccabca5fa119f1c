"""The cost model: Lambda billed per millisecond by memory, plus requests; Dask by instance-hours."""

from __future__ import annotations

import math

import pytest

from aqbench.cost import Prices, instance_run_cost, lambda_call_cost, lithops_run_cost

PRICES = Prices("2026-11", "test", 0.0000166667, 0.0000133334, 0.0000002, 0.0000004, 0.000005, "m5.large", 0.096, 2)


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
    expected = (2 * 0.0000166667 + 0.0000002 + 2 * 0.0000004 + 4 * 0.000005) + (
        1 * 0.0000166667 + 0.0000002 + 3 * 0.0000004 + 0.000005
    )
    assert math.isclose(lithops_run_cost(calls, PRICES), expected, rel_tol=1e-12)


def test_dask_is_priced_by_instance_hours():
    assert instance_run_cost(3600, 2, PRICES) == pytest.approx(0.096)
    assert instance_run_cost(1800, 3, PRICES) == pytest.approx(0.096)  # two instances for half an hour


def test_each_call_is_priced_at_its_architecture_and_billed_duration():
    x86 = {"phase": "reduce", "duration_s": 1.0, "memory_mb": 1024, "objects": 0, "architecture": "x86_64"}
    arm = x86 | {"architecture": "arm64"}
    s3 = PRICES.s3_put
    assert lithops_run_cost([x86], PRICES) == pytest.approx(0.0000166667 + 0.0000002 + s3)
    assert lithops_run_cost([arm], PRICES) == pytest.approx(0.0000133334 + 0.0000002 + s3)
    # Lambda's own billed duration, where its REPORT line gave one, wins over the measured one
    billed = x86 | {"billed_duration_s": 2.0}
    assert lithops_run_cost([billed], PRICES) == pytest.approx(2 * 0.0000166667 + 0.0000002 + s3)
    assert lithops_run_cost([x86 | {"billed_duration_s": float("nan")}], PRICES) == lithops_run_cost([x86], PRICES)
