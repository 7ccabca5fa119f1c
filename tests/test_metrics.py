"""Summaries from tidy rows: medians with their ranges, utilisation as the study defined it, stragglers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aqbench.metrics import enrich_calls, summarise


def test_scaled_utilisation_is_cpu_over_vcpus():
    calls = pd.DataFrame({"memory_mb": [1769, 3538], "cpu_usage": [0.9, 1.0]})
    out = enrich_calls(calls)
    assert out["scaled_utilisation"].tolist() == pytest.approx([0.9, 0.5])
    assert out["utilisation"].tolist() == pytest.approx([0.45, 1.0 / 3])  # 2 and 3 visible cores


def _runs_and_calls():
    base = {
        "engine": "lithops",
        "experiment": "memory",
        "kernel": "arrow",
        "memory_mb": 1024,
        "objects_per_call": 1,
        "reducers": 1,
        "fraction": 1.0,
        "workers": 0,
        "emulated": True,
    }
    runs = pd.DataFrame(
        [
            base
            | {
                "run_id": f"r{i}",
                "status": "ok",
                "wall_s": w,
                "throughput_mb_s": 100 / w,
                "cost_usd": 0.001,
                "bytes": 100e6,
            }
            for i, w in enumerate([10.0, 12.0, 11.0])
        ]
    )
    calls = pd.DataFrame(
        [
            base
            | {
                "run_id": f"r{i}",
                "phase": "map",
                "duration_s": d,
                "cold_start": i == 0,
                "cpu_usage": 0.5,
                "scaled_utilisation": 0.86,
                "peak_rss_mb": 200.0,
            }
            for i in range(3)
            for d in (1.0, 1.0, 4.0)
        ]
    )
    return runs, calls


def test_summary_of_a_configuration():
    runs, calls = _runs_and_calls()
    (row,) = summarise(runs, calls).to_dict("records")
    assert row["runs"] == 3 and row["status"] == "ok" and row["wall_s"] == 11.0
    assert row["wall_s_lo"] <= 11.0 <= row["wall_s_hi"]
    assert row["straggler_ratio"] == 4.0 and row["cold_starts"] == 3 and row["calls_per_run"] == 3


def test_a_range_is_the_minimum_and_maximum_and_a_direction_needs_ranges_apart():
    from aqbench.metrics import NO_DIFFERENCE, direction, median_range

    assert median_range(np.array([3.0, 1.0, np.nan, 2.0])) == (2.0, 1.0, 3.0)
    assert direction([1.0, 2.0], [3.0, 4.0], "faster", "slower") == "faster"
    assert direction([5.0, 6.0], [3.0, 4.0], "faster", "slower") == "slower"
    # "a hash reduce was slower": 16.4 [16.0-17.9] against 13.6 [12.8-18.4] overlap, so no direction
    assert direction([16.0, 16.4, 17.9], [12.8, 13.6, 18.4], "faster", "slower") == NO_DIFFERENCE
    assert direction([], [1.0], "faster", "slower") == NO_DIFFERENCE
    # one run on a side is a value, not a range: however far apart, two single runs are not ordered
    assert direction([1.0], [9.0], "faster", "slower") == NO_DIFFERENCE
    assert direction([1.0, np.nan], [8.0, 9.0], "faster", "slower") == NO_DIFFERENCE
