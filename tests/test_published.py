"""The held-out published jobs and the published inputs: the split holds, the derivation is exact,
and the tails grow with the job."""

from __future__ import annotations

import pickle

import pytest

from aqbench.errors import ConfigError
from aqbench.lambda_facts import facts
from aqbench.scale import published
from aqbench.scale.model import CallCost, JobSpec, Quantiles, SimPlatform, Variation, repeat


def _lithops_result(n: int = 10) -> dict:
    """A Lithops S3 read benchmark result as its script pickles it: call i starts 0.1*i s after its
    submit and reads 100 MB at 100 MB/s, the last one at 25 MB/s."""
    stats, reads = [], []
    for i in range(n):
        submit = 100.0 + 0.01 * i
        start = submit + 0.1 * (i + 1)
        rate = 25.0 if i == n - 1 else 100.0
        end = start + 100 / rate + 0.2
        stats.append({"host_submit_tstamp": submit, "worker_start_tstamp": start, "worker_end_tstamp": end,
                      "worker_exec_time": end - start, "worker_func_exec_time": end - start - 0.05,
                      "host_status_done_tstamp": end + 1.0, "host_result_done_tstamp": end + 1.5,
                      "worker_cold_start": i == 0})  # fmt: skip
        reads.append({"mb_rate": rate, "bytes_read": 100_000_000})
    last = max(s["host_result_done_tstamp"] for s in stats)
    return {"start_time": 99.9, "total_time": last - 99.9 + 0.02, "worker_stats": stats, "results": reads}


def test_a_lithops_benchmark_result_gives_the_facts_the_table_records(tmp_path):
    path = tmp_path / "1000_read.pickle"
    path.write_bytes(pickle.dumps(_lithops_result()))
    run = published.derive(published.load_lithops_result(path))
    assert run.functions == 10 and run.cold_starts == 1
    assert run.invokes_per_s == pytest.approx(10 / 0.09)
    assert run.job_setup_s == pytest.approx(0.1)
    assert run.wrapper_s[0] == pytest.approx(0.05) and run.result_s[0] == pytest.approx(0.5)
    assert run.final_s == pytest.approx(0.02)
    assert run.read_mb_s_median == 100.0 and run.read_time_factors[-1] == pytest.approx(4.0)
    assert run.start_s[0] == pytest.approx(0.1) and run.start_s[-1] == pytest.approx(1.0)


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    path = tmp_path / "evil.pickle"
    path.write_bytes(pickle.dumps(ConfigError("x")))
    with pytest.raises(pickle.UnpicklingError, match="plain data only"):
        published.load_lithops_result(path)


def test_the_committed_held_out_jobs_come_from_sources_that_set_no_input():
    held_out = published.read_jobs()
    published.check_split(facts().source_ids, held_out)  # raises where they mix
    assert len(held_out.sources) >= 2 and held_out.jobs
    assert not set(held_out.sources) & set(facts().source_ids.values())


def test_a_held_out_job_from_a_source_that_sets_an_input_is_refused():
    held_out = published.PublishedSources(
        {"lithops-s3-bench": {}}, (published.PublishedJob("mixed", "lithops-s3-bench", 10, 1024, 5.0),)
    )
    with pytest.raises(ConfigError, match="cannot validate"):
        published.check_split(facts().source_ids, held_out)


def test_validate_sets_every_held_out_job_beside_its_prediction():
    held_out = published.read_jobs()
    table = published.validate(facts(), held_out, seeds=3)
    assert list(table["job"]) == [j.name for j in held_out.jobs]
    assert (table["predicted_s_p10"] <= table["predicted_s"]).all()
    assert (table["predicted_s"] <= table["predicted_s_p90"]).all()
    assert table["error"].to_numpy() == pytest.approx((table["predicted_s"] / table["published_s"] - 1).to_numpy())


def test_the_slowest_of_n_grows_with_n_from_the_published_stragglers():
    """No rule of its own: more calls draw further into the read-time tail, so the map phase ends later."""
    platform = SimPlatform(max_workers=10_000, release_on_notice=False, invokes_per_s=float("inf"), poll_s=0.01,
                           cold_init_s=0.0, warm_start_s=0.0, net_mb_s=100.0, request_s=0.0, scale_per_10s=None,
                           account_concurrency=None)  # fmt: skip
    cost = CallCost(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    tail = Variation(read_factors=Quantiles((0.0, 0.9, 0.99, 1.0), (1.0, 1.0, 2.0, 4.0)))

    def median_wall(n: int) -> float:
        walls = sorted(r.wall_s for r in repeat(JobSpec(n, 100.0, 1, 2048, 0), platform, cost, tail, seeds=9))
        return walls[4]

    assert median_wall(1000) > median_wall(10) >= 1.0
