"""The scale simulation: hand-computed wall times for tiny jobs, the timeout, the calibration."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from aqbench.scale.model import (
    Call,
    CallCost,
    JobSpec,
    SimPlatform,
    Variation,
    call_seconds,
    percentiles,
    repeat,
    simulate,
)

COST = CallCost(overhead_s=0.2, map_cpu_s_per_mb=0.1, reduce_cpu_s_per_mb=0.1, partial_mb_per_input_mb=0.01,
                job_setup_s=0.5, result_s=0.3, final_s=0.0)  # fmt: skip


def platform(**changes) -> SimPlatform:
    base = dict(max_workers=10, release_on_notice=True, invokes_per_s=math.inf, poll_s=1.0, cold_init_s=2.0,
                warm_start_s=0.1, net_mb_s=10.0, request_s=0.0, scale_per_10s=None,
                account_concurrency=None)  # fmt: skip
    return SimPlatform(**(base | changes))


def test_one_call():
    """Set-up 0.5 s; cold start 2 s: starts at 2.5; 0.2 + 10 MB / 10 MB/s + 10 MB x 0.1 s/MB = 2.2 s:
    ends at 4.7; polls every 1 s from 0.5 notice it at 5.5; its result is fetched by 5.8."""
    result = simulate(JobSpec(1, 10.0, 1, 1769, reducers=0), platform(), COST)
    (call,) = result.calls
    assert call.start == pytest.approx(2.5) and call.end == pytest.approx(4.7) and call.cold
    assert result.wall_s == pytest.approx(5.8) and result.status == "success"
    assert call.billed_s == pytest.approx(2.2 + 2.0)  # INIT billed


def test_calls_beyond_max_workers_wait_until_finished_ones_are_noticed():
    """Two slots, three calls: the third is invoked when the 5.5 s poll notices the first two, and
    takes a warm environment (0.1 s): 5.6 to 7.8, noticed at 8.5, done at 8.8."""
    result = simulate(JobSpec(3, 10.0, 1, 1769, reducers=0), platform(max_workers=2), COST)
    third = result.calls[2]
    assert third.invoked == pytest.approx(5.5) and not third.cold
    assert third.start == pytest.approx(5.6) and result.wall_s == pytest.approx(8.8)
    assert result.cold_starts == 2 and result.peak_concurrency == 2
    # Lithops' localhost queue frees a slot at the call's end: invoked at 4.7, done at 7.5 + 0.3
    local = simulate(JobSpec(3, 10.0, 1, 1769, reducers=0), platform(max_workers=2, release_on_notice=False), COST)
    assert local.calls[2].invoked == pytest.approx(4.7) and local.wall_s == pytest.approx(7.8)


def test_a_scheduler_told_of_each_finished_call_notices_it_at_its_end():
    """poll_s = 0 (a Dask scheduler, to which workers report): three calls on two slots, each ends
    and is noticed at the same instant; the third, warm, runs 4.7 + 0.1 to 7.0; done at 7.0 + 0.3."""
    told = simulate(JobSpec(3, 10.0, 1, 1769, reducers=0), platform(max_workers=2, poll_s=0.0), COST)
    assert all(c.noticed == pytest.approx(c.end) for c in told.calls)
    assert told.calls[2].invoked == pytest.approx(4.7) and told.wall_s == pytest.approx(7.3)


def test_the_concurrency_ramp_admits_environments_every_10_s():
    """Two new environments per 10 s, five 30 s calls: they start (after a 1 s init) at 1, 1, 11, 11, 21."""
    slow = CallCost(0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    p = platform(scale_per_10s=2, max_workers=100, cold_init_s=1.0, net_mb_s=1e12)
    result = simulate(JobSpec(5, 30.0, 1, 1769, reducers=0), p, slow)
    assert [round(c.start, 6) for c in result.calls] == [1, 1, 11, 11, 21]
    assert result.peak_concurrency == 5


def test_the_account_limit_caps_the_ramp():
    slow = CallCost(0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0)
    p = platform(scale_per_10s=2, account_concurrency=3, max_workers=100, cold_init_s=1.0, net_mb_s=1e12)
    result = simulate(JobSpec(5, 30.0, 1, 1769, reducers=0), p, slow)
    assert result.peak_concurrency == 3 and sorted(c.start for c in result.calls)[3] >= 31


def test_a_call_over_the_time_limit_ends_as_a_timeout():
    """100 MB at 1 s/MB cannot finish in 50 s: cut at 52.5, noticed at 53.5, the driver stops at 53.8."""
    slow = CallCost(0.2, 1.0, 1.0, 0.01, 0.5, 0.3, 0.0)
    result = simulate(JobSpec(1, 100.0, 1, 1769, reducers=1), platform(timeout_s=50), slow)
    (call,) = result.calls  # no reducer ran
    assert result.status == "timeout" and call.status == "timeout"
    assert call.end - call.start == pytest.approx(50) and result.wall_s == pytest.approx(53.8)


def test_a_reducer_fetches_every_map_calls_partial_in_waves_of_its_fetch_threads():
    """4 maps of 10 MB: each writes 0.1 MB per reducer; a reducer reads 4 x 0.1 MB with a request
    each, then writes its result: one after another 4 + 1 first-byte latencies, 2 at a time 2 + 1,
    64 at a time 1 + 1."""
    p = platform(request_s=0.05)
    rest = 0.2 + 0.4 / 10 + 0.4 * 0.1
    for threads, waves in ((1, 5), (2, 3), (64, 2)):
        single = simulate(JobSpec(4, 10.0, 1, 1769, reducers=1, fetch_threads=threads), p, COST)
        (red,) = [c for c in single.calls if c.phase == "reduce"]
        assert red.requests == 4 and red.serial_requests == 1 and red.mb == pytest.approx(0.4)
        assert red.end - red.start == pytest.approx(rest + waves * 0.05)
    hashed = simulate(JobSpec(4, 10.0, 1, 1769, reducers=2), p, COST)
    reds = [c for c in hashed.calls if c.phase == "reduce"]
    assert len(reds) == 2 and all(c.requests == 4 and c.mb == pytest.approx(0.2) for c in reds)


def test_cpu_share():
    p = platform()
    assert p.share(1024) == pytest.approx(1024 / 1769)
    assert p.share(3000) == 1.0  # single-threaded below two vCPUs
    assert p.share(3538) == pytest.approx(2.0) and p.share(10240) == pytest.approx(10240 / 1769)


def _synthetic_metrics(tmp_path, overhead=0.15, net=60.0, cpu_per_mb=0.01, probe=400.0):
    """Calls whose worker time follows the model exactly; calibration must find its constants."""
    rng = np.random.default_rng(1)
    rows, runs = [], []
    for r, (memory, objects) in enumerate([(1024, 1), (1769, 2), (1769, 8), (3538, 4), (2048, 2)]):
        run = f"run{r}"
        share = min(memory / 1769, 2) if memory >= 3538 else min(memory / 1769, 1)
        t = 1000.0 + 100 * r
        for phase, n in (("map", 4), ("reduce", 1)):
            for i in range(n):
                mb = objects * 25.0 if phase == "map" else 1.0
                cpu = mb * (cpu_per_mb if phase == "map" else 2 * cpu_per_mb)
                secs = overhead + mb / net + cpu / share
                rows.append({
                    "engine": "lithops", "experiment": "objects_per_call", "emulated": True,
                    "network_emulated": True, "status": "success",
                    "locality": "local", "phase": phase, "kernel": "arrow", "memory_mb": memory, "run_id": run,
                    "bytes_read": mb * 1e6, "bytes_written": mb * 1e4, "cpu_user_s": cpu * 0.9,
                    "cpu_system_s": cpu * 0.1, "cold_start": i == 0 and phase == "map", "init_s": 0.7,
                    "lithops_host_job_create_tstamp": t, "lithops_host_submit_tstamp": t + 0.01,
                    "lithops_worker_start_tstamp": t + 0.05, "lithops_worker_end_tstamp": t + 0.05 + secs,
                    "lithops_host_status_done_tstamp": t + 0.2 + secs,
                    "lithops_host_result_done_tstamp": t + 0.3 + secs,
                })  # fmt: skip
        # the run's wall time: its jobs' spans (as the driver's statistics give them) and a final step
        span = sum(max(x["lithops_host_result_done_tstamp"] for x in rows if x["run_id"] == run and x["phase"] == ph)
                   - t for ph in ("map", "reduce"))  # fmt: skip
        runs.append({"engine": "lithops", "experiment": "objects_per_call", "emulated": True, "run_id": run,
                     "wall_s": span + 0.1 + rng.random(), "probe_before_mb_s": probe,
                     "probe_after_mb_s": probe})  # fmt: skip
    metrics = tmp_path / "metrics"
    metrics.mkdir(parents=True)
    pd.DataFrame(rows).to_parquet(metrics / "calls.parquet")
    pd.DataFrame(runs).to_parquet(metrics / "runs.parquet")
    (metrics / "environment.json").write_text(json.dumps({"cores": 2}))
    return metrics


def test_calibration_recovers_the_constants_of_its_calls(tmp_path):
    from aqbench.scale.calibration import calibrate

    cal = calibrate(_synthetic_metrics(tmp_path), link_mbit=625, poll_s=0.2)
    assert cal.cost.overhead_s == pytest.approx(0.15, rel=1e-6)
    assert cal.net_mb_s == pytest.approx(60.0, rel=1e-6)
    assert cal.kernel_cpu_s_per_mb["arrow"] == pytest.approx(0.01)
    assert cal.cost.reduce_cpu_s_per_mb == pytest.approx(0.02)  # twice the map's
    assert cal.cost.partial_mb_per_input_mb == pytest.approx(0.01)
    assert cal.cold_init_s == pytest.approx(0.7) and cal.host_cores == 2
    assert set(cal.sources) >= {"overhead_s", "net_mb_s", "map_cpu_s_per_mb", "cold_init_s"}
    assert cal.probe_core_mb_s == pytest.approx(200.0)  # 400 MB/s on 2 cores
    assert cal.map_factors[0] == pytest.approx(1.0) and cal.map_factors[-1] == pytest.approx(1.0)  # exact calls


def test_cpu_seconds_travel_to_lambda_through_the_calibrating_hosts_published_cpu_ratio(tmp_path):
    """One CPU story: Lambda's CPU seconds are the calibrating host's times the ratio of published
    single-thread scores (cpu_facts.yaml) for that host's family and model; a host the table does not
    know gets 1 and the sentence says so."""
    from dataclasses import replace

    from aqbench.lambda_facts import facts as facts_table
    from aqbench.scale.calibration import calibrate
    from aqbench.scale.project import CPU_RATIO, lambda_cost, with_cpu_ratio
    from aqbench.study2023 import cpu

    cal = calibrate(_synthetic_metrics(tmp_path / "m", cpu_per_mb=0.01, probe=400.0), 625, 0.2)
    facts, ranges = facts_table().values, facts_table().ranges
    unknown, _, said = with_cpu_ratio(cal, facts, ranges)
    assert unknown[CPU_RATIO] == 1.0 and "not known" in said
    emerald = {"cpu_vendor": "GenuineIntel", "cpu_family": 6, "cpu_model": 207, "cpu_name": "Intel(R) Xeon(R)"}
    known, known_ranges, said = with_cpu_ratio(replace(cal, host_cpu=emerald), facts, ranges)
    expected = cpu.ratio(cpu.HostCpu.from_row(emerald)).span
    assert known[CPU_RATIO] == pytest.approx(expected.value)
    assert known_ranges[CPU_RATIO] == (expected.low, expected.high)
    assert lambda_cost(cal, known).map_cpu_s_per_mb == pytest.approx(cal.cost.map_cpu_s_per_mb * expected.value)
    assert lambda_cost(cal, known).overhead_s == facts["lithops_call_overhead_s"]  # Lambda's, not loopback's


def test_the_alternatives_pay_boot_read_parse_and_ec2s_minimum(tmp_path):
    """The single instance boots, then reads at its published S3 rate or parses on its vCPUs, whichever
    is slower, billed from launch with EC2's 60 s minimum; a Dask cluster's workers share their
    instance's S3 rate, and more instances finish sooner."""
    from aqbench.cost import Prices
    from aqbench.defaults import schema_default
    from aqbench.lambda_facts import facts as facts_table
    from aqbench.scale.alternatives import DaskTerms, alternatives, dask_cluster
    from aqbench.scale.calibration import calibrate

    cal = calibrate(_synthetic_metrics(tmp_path / "m", cpu_per_mb=0.01), 625, 0.2)  # no CPU recorded: ratio 1
    prices = Prices.from_config(schema_default("prices") | {"ec2_hourly": 0.1, "ec2_vcpus": 2})
    facts = facts_table().values | {"big_instance_vcpus": 64, "big_instance_s3_mb_s": 1000.0, "ec2_boot_s": 20.0,
                                    "big_instance_hourly_usd": 3.6, "ec2_min_billed_s": 60}  # fmt: skip
    table = alternatives(cal, facts, prices, None, 25.0, seeds=3, data_sizes=(50.0,))
    single = table.iloc[0]
    # 50,000 MB: 500 CPU s over 64 vCPUs = 7.8 s, 50 s through 1,000 MB/s: read-bound, after a 20 s boot
    assert single["wall_s"] == pytest.approx(70.0) and single["bound"] == "S3 read"
    assert single["cost_usd"] == pytest.approx(70 / 3600 * 3.6)
    terms = DaskTerms(task_gap_s=0.005, driver_s=0.5, runs=5)
    small, big = (dask_cluster(cal, facts, prices, terms, n, 5.0, 25.0, 3) for n in (1, 16))
    assert big["wall_s"] < small["wall_s"] and small["wall_s"] > small["boot_s"] == facts["ec2_boot_s"]
    assert small["cost_usd"] >= 60 / 3600 * 0.1  # at least the minimum


def test_a_reducer_that_needs_more_than_its_memory_is_killed():
    """4 maps of 10 MB write 0.1 MB each: a single reducer merges 0.4 MB and needs 100 + 50 x 0.4 = 120 MB."""
    hungry = CallCost(0.2, 0.1, 0.1, 0.01, 0.5, 0.3, 0.0, reduce_base_mb=100.0, reduce_mb_per_input_mb=50.0)
    small = simulate(JobSpec(4, 10.0, 1, 110, reducers=1), platform(), hungry)
    assert small.status == "oom" and [c.status for c in small.calls if c.phase == "reduce"] == ["oom"]
    big = simulate(JobSpec(4, 10.0, 1, 130, reducers=1), platform(), hungry)
    assert big.status == "success"
    # two reducers merge half the bytes each: 110 MB, within 110 MB
    assert simulate(JobSpec(4, 10.0, 1, 110, reducers=2), platform(), hungry).status == "success"


def test_a_reducers_memory_is_the_line_through_the_benchs_two_merges(tmp_path):
    from aqbench.scale.calibration import reducer_memory

    bench = tmp_path / "kernels.json"
    # 2000 partials of 25 MB objects at 0.01 MB a MB: 500 MB merged by one reducer, 62.5 MB by one of 8
    bench.write_text(json.dumps({"fan_in": 2000, "object_mb": 25.0, "reducers": 8,
                                 "merge_r1_peak_rss_mb": 2300.0, "merge_r8_peak_rss_mb": 550.0}))  # fmt: skip
    base, slope, source = reducer_memory(bench, 0.01)
    assert slope == pytest.approx((2300 - 550) / (500 - 62.5)) and base + slope * 500 == pytest.approx(2300)
    assert "2000 partials" in source
    assert reducer_memory(None, 0.01)[:2] == (0.0, 0.0)


def test_a_worker_runs_its_chunk_of_activations_in_sequence_each_paying_the_fixed_part():
    """Lithops' chunksize: 3 activations of one 10 MB object, chunksize 2, are two workers; the
    first runs two activations in a row: 2 x (0.2 + 1 + 1) = 4.4 s, from 2.5 to 6.9."""
    result = simulate(JobSpec(3, 10.0, 1, 1769, reducers=0, chunksize=2), platform(), COST)
    first, second = result.calls
    assert (first.activations, second.activations) == (2, 1)
    assert first.end - first.start == pytest.approx(4.4) and second.end - second.start == pytest.approx(2.2)
    assert first.mb == 20.0 and result.cold_starts == 2


def test_the_study_runs_as_they_ran_and_a_cost_solved_from_its_timeout_run():
    """The warm-up is 990 workers of two activations; the timeout run one worker that times out;
    the cost solved for the timeout run's 47.2 s an activation (Lithops' reading) gives back its 19."""
    from aqbench import study_facts as study
    from aqbench.scale.project import activation_seconds, cost_for_activation

    p = platform(request_s=0.05)
    low, high = study.activation_s_from_timeout()
    assert (low, high) == pytest.approx((46.9, 47.2), abs=0.05) and study.activation_s_from_warmup() == 35.0
    solved = cost_for_activation(p, COST, high, 25.0, 1024, 1)
    assert activation_seconds(p, solved, 25.0, 1024, 1) == pytest.approx(high)
    assert math.floor(900 / activation_seconds(p, solved, 25.0, 1024, 1) + 1e-9) == study.TIMEOUT_DONE
    assert study.WARMUP_WORKERS == 990 and round(study.WARMUP_ACTIVATIONS * study.OBJECT_MB / 1000, 1) == 49.5
    timeout = simulate(JobSpec(study.TIMEOUT_ACTIVATIONS, 25.0, 1, 1024, 1, chunksize=1099), p, solved)
    assert timeout.status == "timeout" and len(timeout.calls) == 1


def test_the_explanation_follows_the_simulation_closer_to_the_log():
    from aqbench.report.scale_tables import explanation

    said = explanation(70, {"the implied cost": 100.0, "the seed kernel": 16.0})
    assert said.startswith("the warm-up's 70.0\\,s is nearest the simulation with the implied cost (100\\,s")
    assert "its log 0.7 times that" in said and "with the seed kernel its log is 4.4 times" in said
    said = explanation(70, {"the implied cost": 400.0, "the seed kernel": 60.0})
    assert "nearest the simulation with the seed kernel (60.0" in said and "0.17 times" in said


SPREAD = Variation(map_factors=(0.6, 0.9, 1.0, 1.2, 2.0), reduce_factors=(0.8, 1.0, 1.3), cold_init_s=(2.6, 3.2),
                   warm_start_s=(0.2, 0.3))  # fmt: skip


def test_same_seed_same_answer_and_other_seeds_other_walls():
    job = JobSpec(40, 10.0, 1, 1769, reducers=2)
    p = platform(cold_init_s=2.9, warm_start_s=0.25)
    first, again = simulate(job, p, COST, SPREAD, seed=7), simulate(job, p, COST, SPREAD, seed=7)
    assert first.wall_s == again.wall_s and [c.end for c in first.calls] == [c.end for c in again.calls]
    walls = {r.wall_s for r in repeat(job, p, COST, SPREAD, seeds=20)}
    assert len(walls) > 10  # the calls' spread and the monitor's phase move the wall
    p10, p50, p90 = percentiles(sorted(walls))
    assert p10 <= p50 <= p90
    plain = simulate(job, p, COST)  # without a variation, the model's one answer
    assert plain.wall_s == simulate(job, p, COST).wall_s


def test_calls_vary_by_the_measured_residuals_within_their_range():
    """Every map call's time is the model's times a draw between the lowest and highest residual."""
    job = JobSpec(50, 10.0, 1, 1769, reducers=1)
    p = platform()
    model = call_seconds(Call("map", 0, 10.0, 2, COST.map_cpu_s_per_mb), 1769, p, COST)
    result = simulate(job, p, COST, SPREAD, seed=3)
    times = [c.end - c.start for c in result.calls if c.phase == "map"]
    assert min(times) >= 0.6 * model - 1e-9 and max(times) <= 2.0 * model + 1e-9
    assert max(times) > min(times)


def test_the_job_monitor_notices_later_the_more_calls_the_job_has():
    """Each poll lists the job's prefix, a page of 1,000 keys at a time (an init key per started
    call, a status key per finished one), and finds what had finished when it began. 2,500 calls
    end at 2.9 s. Listing for free, the poll at 3.5 s finds them (wall 3.8 s). At 0.5 s a page, the
    poll at 1.5 s lists 2,500 keys (3 pages, until 3.0 s) and finds none; the next, at 4.0 s, finds
    them all among 5,000 keys and is done at 6.5 s (wall 6.8 s)."""
    quick = platform(max_workers=3000, list_page_s=0.0)
    listed = platform(max_workers=3000, list_page_s=0.5)
    job = JobSpec(2500, 1.0, 1, 1769, reducers=0)
    assert simulate(job, quick, COST).wall_s == pytest.approx(3.8)
    assert simulate(job, listed, COST).wall_s == pytest.approx(6.8)


def _calibration_file(tmp_path) -> str:
    from aqbench.scale.calibration import calibrate

    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(calibrate(_synthetic_metrics(tmp_path / "cal"), 625, 0.2).to_dict()))
    return str(path)


def test_a_calibration_round_trips_through_its_file(tmp_path):
    from aqbench.scale.calibration import Calibration, calibrate

    cal = calibrate(_synthetic_metrics(tmp_path), 625, 0.2)
    assert Calibration.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal


def test_a_users_job_file_is_simulated_with_its_spread(tmp_path, capsys):
    from pathlib import Path

    from aqbench.cli import main

    out, job = tmp_path / "job.json", tmp_path / "job.yaml"
    example = (Path(__file__).parent.parent / "workflow" / "config" / "job.yaml").read_text()
    job.write_text(example.replace("seeds: 20", "seeds: 2"))  # the README's example, fewer seeds
    cal = _calibration_file(tmp_path)
    assert main(["simulate", "--job", str(job), "--calibration", cal, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "wall time" in printed and "cost $" in printed
    r = json.loads(out.read_text())
    assert r["runs"] == 2 and r["seeds"] == [0, 1] and r["workers"] == 2000
    assert r["wall_s"]["p10"] <= r["wall_s"]["median"] <= r["wall_s"]["p90"]
    assert r["cost_usd"]["median"] > 0 and r["gb_s"] > 0


def test_the_readmes_example_runs_on_a_fresh_clone_with_the_committed_calibration(tmp_path, monkeypatch, capsys):
    """No local run needed: without --calibration, the committed canonical run's (results/paper) is used,
    whatever the current folder."""
    from pathlib import Path

    from aqbench.cli import main

    example = (Path(__file__).parent.parent / "workflow" / "config" / "job.yaml").read_text()
    (tmp_path / "job.yaml").write_text(example.replace("seeds: 20", "seeds: 2"))
    monkeypatch.chdir(tmp_path)  # no results/ here
    assert main(["simulate", "--job", "job.yaml", "--out", "job.json"]) == 0
    assert "wall time" in capsys.readouterr().out
    assert json.loads((tmp_path / "job.json").read_text())["runs"] == 2


@pytest.mark.parametrize(
    ("text", "says"),
    [("memroy_mb: 2048\n", "unknown field"), ("memory_mb: 20000\n", "128-10240"), ("kernel: fast\n", "not measured"),
     ("platform: {speed: 2}\n", "unknown fact"), ("- 1\n", "mapping")],
)  # fmt: skip
def test_a_bad_job_file_is_one_clear_line(tmp_path, capsys, text, says):
    from aqbench.cli import main

    job = tmp_path / "job.yaml"
    job.write_text(text)
    assert main(["simulate", "--job", str(job), "--calibration", _calibration_file(tmp_path)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]
