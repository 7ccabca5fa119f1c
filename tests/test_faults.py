"""Faults injected into real runs: each ends equal to the reference, or fails naming the failed calls."""

from __future__ import annotations

import json

import pytest

from aqbench.emulated import cgroups
from aqbench.engines.faults import Faults
from aqbench.errors import ConfigError

from conftest import STAGED_RECORDS, calls_of, run_engine, runs_of

ONE_OBJECT_A_CALL = {"memory_mb": 1024, "objects_per_call": 1, "kernel": "arrow"}


def test_raising_calls_spread_evenly_and_unknown_switch_is_named():
    faults = Faults(map_error_fraction=0.5)
    assert sum(faults.map_fault(i, 10) == "raise" for i in range(10)) == 5
    assert Faults(kill_map_call=3).map_fault(3, 6) == "kill" and Faults().map_fault(3, 6) is None
    with pytest.raises(ConfigError, match="kil_map_call"):
        Faults.from_json('{"kil_map_call": 1}')
    with pytest.raises(ConfigError, match="map_error_fraction"):
        Faults.from_json('{"map_error_fraction": 2}')


def test_server_and_worker_kills_strike_only_an_experiments_first_run():
    faults = Faults(restart_storage=True, kill_dask_worker=True, map_error_fraction=0.5)
    assert faults.for_run(0) == faults
    later = faults.for_run(1)
    assert not later.restart_storage and not later.kill_dask_worker and later.map_error_fraction == 0.5
    assert later.dask_kill_marker("run") is None and later.during_maps(object()) is None


def test_a_run_that_lost_records_fails_even_with_equal_aggregates():
    """Reconciliation: equal aggregates are not enough, every staged line must be accounted for."""
    from aqbench.aggregates import SCHEMA
    from aqbench.engines.runs import check
    from aqbench.errors import VerificationError
    from aqbench.openaq import RecordCounts

    table = SCHEMA.empty_table()
    counts = RecordCounts(records_valid=10)
    counts.reject("invalid_json", 2)
    check("lithops", "r1", table, counts, table, counts)
    with pytest.raises(VerificationError, match="read 12 records but the staged objects hold 13: 1 lost"):
        check("lithops", "r1", table, RecordCounts(11, {"invalid_json": 2}), table, counts)
    with pytest.raises(VerificationError, match="departed from the record specification"):
        check("lithops", "r1", table, RecordCounts(10, {"bad_date": 2}), table, counts)


def _ok_after_retries(out, statuses: set[str]) -> list[dict]:
    (run,) = runs_of(out)
    assert run["status"] == "ok" and run["records_read"] == STAGED_RECORDS  # verified against the reference
    calls = calls_of(out)
    failed = [c for c in calls if c["status"] != "success"]
    assert failed and {c["status"] for c in failed} <= statuses
    for c in failed:  # every failed attempt was followed by a successful one of the same call
        assert any(
            d["call"] == c["call"]
            and d["phase"] == c["phase"]
            and d["attempt"] > c["attempt"]
            and d["status"] == "success"
            for d in calls
        )
    return failed


@pytest.mark.slow
def test_lithops_raising_and_killed_calls_are_resubmitted(staged):
    faults = {"map_error_fraction": 0.34, "kill_map_call": 1}
    code, out = run_engine(
        staged, "lithops", "faults", ONE_OBJECT_A_CALL, "--no-emulate", "--faults", json.dumps(faults)
    )
    assert code == 0
    failed = _ok_after_retries(out, {"error"})
    expected = {i for i in range(6) if Faults(**faults).map_fault(i, 6)}
    assert {c["call"] for c in failed} == expected and len(expected) == 2  # one raised, one killed
    assert any("injected failure" in (c.get("error") or "") for c in failed)


@pytest.mark.slow
@pytest.mark.skipif(not cgroups.available()[0], reason="no writable cgroups here")
def test_lithops_call_over_its_memory_limit_is_recorded_and_resubmitted(staged):
    code, out = run_engine(staged, "lithops", "oom", ONE_OBJECT_A_CALL, "--emulate", "--faults", '{"oom_map_call": 2}')
    assert code == 0
    (failed,) = _ok_after_retries(out, {"oom"})
    # the call was killed by its emulated Lambda's memory limit (the cgroup's OOM record says so)
    assert failed["call"] == 2 and failed["status"] == "oom" and failed["emulated"] is True
    assert all(c["emulated"] is True for c in calls_of(out) if c["status"] == "success")


@pytest.mark.slow
def test_lithops_fails_naming_calls_when_retries_run_out(staged, capsys):
    code, out = run_engine(
        staged,
        "lithops",
        "hopeless",
        ONE_OBJECT_A_CALL,
        "--no-emulate",
        "--retries",
        "0",
        "--faults",
        '{"map_error_fraction": 0.5}',
    )
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 5 and "map call 0: error after 1 attempt(s)" in err and "map call 4" in err
    assert not (out / "runs.parquet").exists()  # no partial result is kept


@pytest.mark.slow
def test_lithops_survives_the_storage_server_restarting_mid_run(staged):
    faults = {"restart_storage": True, "delay_s": 0.3}
    grid = ONE_OBJECT_A_CALL | {"objects_per_call": 2}
    code, out = run_engine(staged, "lithops", "restart", grid, "--no-emulate", "--faults", json.dumps(faults))
    assert code == 0
    (run,) = runs_of(out)
    assert run["status"] == "ok" and run["records_read"] == STAGED_RECORDS
    assert "storage server killed" in run["note"] and "restarted" in run["note"]


@pytest.mark.slow
def test_dask_worker_killed_mid_job_is_replaced(staged):
    grid = {"kernel": "arrow", "workers": 2, "memory_mb": 1024, "objects_per_call": 1}
    code, out = run_engine(staged, "dask", "killed", grid, "--faults", '{"kill_dask_worker": true}')
    assert code == 0
    (run,) = runs_of(out)
    assert run["status"] == "ok" and run["records_read"] == STAGED_RECORDS
    assert "Dask worker killed itself (SIGKILL) during map task 0" in run["note"]
