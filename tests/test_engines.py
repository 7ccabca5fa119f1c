"""Lithops and Dask as real engines on the real local S3 server, every run checked against the reference."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aqbench.emulated import cgroups
from aqbench.emulated import network as lambda_network

from conftest import STAGED_RECORDS, calls_of, engine_spec, line, run_engine, runs_of

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def test_lithops_runs_are_verified_and_recorded(staged, capsys):
    grid = {"memory_mb": [1024], "objects_per_call": [1, 4], "reducers": [1, 3], "kernel": ["arrow", "seed"]}
    code, out = run_engine(staged, "lithops", "grid", grid)
    assert code == 0
    runs = runs_of(out)
    assert len(runs) == 8 and {r["status"] for r in runs} == {"ok"}
    for r in runs:  # reconciled: read = valid + rejected by reason = the manifest's count
        reasons = json.loads(r["rejected_by_reason"])
        assert r["records_read"] == r["records_staged"] == STAGED_RECORDS
        assert r["records_valid"] + sum(reasons.values()) == r["records_read"]
        assert reasons == {"invalid_json": 6, "value_negative": 6}
    calls = calls_of(out)
    maps = [c for c in calls if c["phase"] == "map" and c["objects_per_call"] == 1]
    assert maps and all(c["bytes_read"] > 0 and c["duration_s"] > 0 and c["t_start"] >= c["t_submit"] for c in maps)
    env = json.loads((out / "environment.json").read_text())
    assert env["cores"] and env["packages"]["lithops"]
    assert len(list((out / "aggregates").glob("*.parquet"))) == 8
    capsys.readouterr()


def test_the_ndjson_kernel_is_selectable_and_verified_on_lithops_and_dask(staged, capsys):
    for engine, grid in (("lithops", {"memory_mb": 1024, "kernel": "ndjson"}),
                         ("dask", {"kernel": "ndjson", "workers": 2, "memory_mb": 2048})):  # fmt: skip
        code, out = run_engine(staged, engine, f"ndjson_{engine}", grid)
        runs = runs_of(out)
        assert code == 0 and runs and {(r["status"], r["kernel"]) for r in runs} == {("ok", "ndjson")}, engine
        assert all(r["records_read"] == STAGED_RECORDS for r in runs)
    capsys.readouterr()


def test_lithops_timeout_is_a_data_point_not_a_crash(staged):
    grid = {"memory_mb": 1024, "objects_per_call": 1000, "timeout_s": 0.01, "kernel": "seed"}
    code, out = run_engine(staged, "lithops", "timeout", grid)
    assert code == 0
    (run,) = runs_of(out)
    assert run["status"] == "timeout" and run["throughput_mb_s"] is None


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}"),
    )


def test_dask_through_real_scheduler_and_worker_processes(staged):
    root = staged[0]
    scheduler_file = root / "scheduler.json"
    procs = [
        _start(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            root / "scheduler.log",
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        for i in range(2):
            procs.append(
                _start(
                    [
                        str(BIN / "dask"),
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--memory-limit",
                        "1GiB",
                        "--host",
                        "127.0.0.1",
                    ],
                    root / f"worker{i}.log",
                )
            )
        grid = {"kernel": ["arrow", "idiomatic", "seed"], "reducers": [1, 2]}
        code, out = run_engine(staged, "dask", "remote", grid, "--scheduler-address", address)
        assert code == 0
        runs = runs_of(out)
        assert len(runs) == 6 and {r["status"] for r in runs} == {"ok"}
        calls = calls_of(out)
        workers = {c["worker"] for c in calls}
        assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def test_dask_local_cluster_fraction(staged):
    grid = {"kernel": "arrow", "workers": 2, "memory_mb": 1024, "fraction": [0.5, 1.0]}
    code, out = run_engine(staged, "dask", "scaling", grid)
    assert code == 0
    assert [r["records_read"] for r in runs_of(out)] == [STAGED_RECORDS // 2, STAGED_RECORDS]


def test_one_duckdb_process_reads_every_object_and_equals_the_reference(staged):
    code, out = run_engine(staged, "duckdb", "single", {"kernel": "duckdb", "workers": [1, 2], "fraction": [0.5, 1.0]})
    assert code == 0
    runs = runs_of(out)
    assert [r["records_read"] for r in runs] == [STAGED_RECORDS // 2, STAGED_RECORDS // 2, STAGED_RECORDS,
                                                 STAGED_RECORDS]  # fmt: skip
    assert {r["status"] for r in runs} == {"ok"} and {r["engine"] for r in runs} == {"duckdb"}
    calls = calls_of(out)
    assert len(calls) == 4 and all(c["phase"] == "query" and c["bytes_read"] > 0 for c in calls)


def test_idiomatic_single_node_queries_are_timed_and_their_answers_counted_not_used(staged):
    """DuckDB's read_ndjson skips the broken line and the sentinel without a word; the run is not
    failed for it: its answer is compared with the reference and the differences counted. Polars'
    reader stops at the broken line even with ignore_errors: its run records the error."""
    import json

    code, out = run_engine(staged, "duckdb", "idiomatic", {"kernel": ["idiomatic", "polars"], "workers": 0})
    assert code == 0
    duck, polars = runs_of(out)
    assert (duck["engine"], duck["status"], duck["exact"]) == ("duckdb", "ok", False)
    diff = json.loads(duck["answer_differences"])
    # each object's valid lines (24 hourly + one ppm line) are all read: the groups are exact
    assert diff["groups_missing"] == diff["groups_unexpected"] == diff["lines_skipped"] == 0
    assert diff["groups_exact"] > 0 and duck["records_valid"] == 6 * 25
    assert duck["note"].startswith("unverified answer: 0 of")
    assert (polars["engine"], polars["status"]) == ("polars", "unreadable") and "error" in polars["note"].lower()
    assert not list((out / "aggregates").glob("*.parquet"))  # never kept, never used


@pytest.mark.skipif(not cgroups.available()[0], reason="no writable cgroup v1 hierarchy on this host")
def test_dask_under_lambda_terms_runs_as_many_quota_held_workers_as_lambdas_fit(staged):
    """workers 0 at 1024 MB: as many workers as emulated 1024 MB Lambdas fit the cores, each held
    to its quota (the rows say emulated), and the answer verified like every run."""
    from aqbench.emulated.cgroups import max_concurrency

    grid = {"kernel": "arrow", "workers": 0, "memory_mb": 1024, "objects_per_call": 2}
    code, out = run_engine(staged, "dask", "lambda_terms", grid, "--emulate-lambda")
    assert code == 0
    (run,) = runs_of(out)
    assert run["status"] == "ok" and run["workers"] == max_concurrency(1024) and run["records_read"] == STAGED_RECORDS
    assert run["emulated"] == lambda_network.available()[0]  # CPU and memory held; the link where tc works
    assert not list(Path("/sys/fs/cgroup/cpu/aqbench").glob("dask-*"))  # its groups gone with it


def test_a_damaged_object_fails_every_run_that_reads_it_and_no_other(s3_server, tmp_path, capsys):
    """One digit of one staged object changed (same size, same lines): references come from the
    source files and every read is checksummed, so each engine fails naming that object when a
    run reads it, at any fraction, and passes when it does not. A failed experiment leaves no
    file in its folder, not even the aggregates of the verified run before the failed one."""
    from aqbench.storage import open_store
    from aqbench.storage.stage import stage, write_reference

    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        lines = [line(value=10 + i + h / 8, utc=f"2018-01-01T{h:02d}:00:00.000Z") for h in range(12)]
        (data / f"df{i:05d}.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = open_store("s3-local", "damaged-test", {"state_dir": s3_server.state_dir})
    manifest, partials = stage([data], store, "openaq/", progress=False)
    manifest.write(tmp_path / "manifest.json")
    write_reference(partials, tmp_path / "reference.parquet")
    damaged = manifest.objects[2]  # read by fractions above 0.5, not by 0.5
    body = bytearray(store.get(damaged.key))
    digit = body.index(b'"value": 12') + len(b'"value": 1')
    body[digit] = ord("3")  # 12.x becomes 13.x: same size, same line count
    store.client.put_object(Bucket=store.bucket, Key=damaged.key, Body=bytes(body))
    staged = (tmp_path, ["--storage", "s3-local", "--bucket", "damaged-test", "--state", str(s3_server.state_dir)])
    staged[1].extend(["--lithops-tmp", str(tmp_path / "lithops-tmp")])
    engines = (("lithops", {"memory_mb": 1024}), ("dask", {"workers": 2, "memory_mb": 1024}), ("duckdb", {}))
    for engine, grid in engines:
        for fraction, reads_it in ((0.5, False), (0.75, True), (1.0, True)):
            extra = ["--no-emulate"] if engine == "lithops" else []
            fractions = [0.5, fraction] if fraction == 0.75 else [fraction]  # 0.5 is verified, then 0.75 fails
            code, out = run_engine(staged, engine, f"f{fraction}", grid | {"fraction": fractions}, *extra)
            err = capsys.readouterr().err
            if reads_it:
                assert code == 5 and damaged.key in err and "CRC32C" in err, (engine, fraction, err[-500:])
                assert not [p for p in out.rglob("*") if p.is_file()], (engine, fraction)
            else:
                assert code == 0, (engine, fraction, err[-500:])
                assert runs_of(out)[0]["records_read"] == 24


def test_warm_up_job_then_measured_job_on_warm_environments(staged):
    """The study's warm-up, as it ran: one object an activation, two activations a worker, run in
    sequence in the worker's environment. Its workers start the environments (cold, init_s > 0);
    the measured job's calls find them warm: no init, sooner than a cold start (by how much is
    measured by ``aqbench bench engines``, whose per-call overhead lines print cold beside warm)."""
    import statistics

    grid = {"memory_mb": 1024, "objects_per_call": 2, "warmup": True}
    code, out = run_engine(staged, "lithops", "warm", grid, "--emulate", "--warm")
    assert code == 0
    (run,) = runs_of(out)
    assert run["status"] == "ok" and run["records_read"] == STAGED_RECORDS
    calls = calls_of(out)
    warmup = [c for c in calls if c["phase"] == "warmup"]
    measured = [c for c in calls if c["phase"] == "map"]
    assert len(warmup) == 6 and len(measured) == 3 and all(c["objects"] == 1 for c in warmup)
    workers: dict[str, list[dict]] = {}
    for c in sorted(warmup, key=lambda c: c["call"]):
        workers.setdefault(c["invocation"], []).append(c)
    assert len(workers) == 3
    for first, second in workers.values():  # in sequence, in one environment, the second warm
        assert (first["position"], second["position"]) == (0, 1) and first["env_id"] == second["env_id"]
        assert second["t_start"] >= first["t_end"] and not second["cold_start"]
    cold = [c for c in warmup if c["cold_start"]]
    assert cold and all(c["init_s"] > 0.1 for c in cold)
    assert not any(c["cold_start"] for c in measured) and all(c["init_s"] == 0 for c in measured)
    assert {c["env_id"] for c in measured} <= {c["env_id"] for c in warmup}
    warm_latency = statistics.median(c["t_start"] - c["t_submit"] for c in measured)
    # a cold start costs at least the interpreter and imports it measured; a warm one no process start
    cold_latency = min(c["t_start"] - c["t_submit"] for c in cold)
    assert cold_latency >= min(c["init_s"] for c in cold)
    assert warm_latency < cold_latency, (warm_latency, cold_latency)
    assert all(c["t_submit"] <= c["t_dispatch"] <= c["t_start"] for c in calls)


def _lambda_env_pids(service_dir: Path) -> set[int]:
    """Environment processes, and shims (Lithops' runtime) waiting for one, of the service in
    ``service_dir`` (their command lines name it; other tests' services may run meanwhile)."""
    import psutil

    found = set()
    for p in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(p.info["cmdline"] or [])
        if str(service_dir) not in cmdline:
            continue
        if "aqbench.emulated.environment" in cmdline or "lambda-service/lambda-runtime" in cmdline:
            found.add(p.pid)
    return found


def test_no_environment_or_group_outlives_a_killed_run(staged):
    """SIGKILL the driver mid-job: its environments end (their control pipe closes), and the
    next run in the same folder removes whatever the dead one left (groups, files), only its own."""
    from aqbench.emulated import cgroups

    root, store_args = staged
    service_dir = root / "lithops-tmp" / "lambda-service"
    grid = {"memory_mb": 1024, "objects_per_call": 1, "kernel": "seed"}
    spec = engine_spec(root, store_args, "lithops", "killed", grid, "--warm")
    spec.write_text(spec.read_text().replace('"repetitions": 1', '"repetitions": 3'))
    argv = [str(BIN / "aqbench"), "run-lithops", "--spec", str(spec)]
    argv += ["--manifest", str(root / "manifest.json"), "--reference", str(root / "reference.parquet")]
    argv += ["--out", str(root / "killed")]
    driver = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (service_dir / "pids").exists():
        time.sleep(0.1)
    time.sleep(1.0)  # calls are running in environments
    assert driver.poll() is None and _lambda_env_pids(service_dir), "no environment started"
    owner = json.loads((service_dir / "owner.json").read_text())
    os.kill(driver.pid, 9)
    driver.wait()
    classes = (service_dir / "classes").read_text().split() if (service_dir / "classes").exists() else []
    code, out = run_engine(staged, "lithops", "after", {"memory_mb": 1024}, "--warm")
    assert code == 0 and runs_of(out)[0]["status"] == "ok"
    assert not _lambda_env_pids(service_dir)  # none left, the killed run's or this one's
    assert not service_dir.exists()
    if cgroups.available()[0]:
        leftovers = list((cgroups.CGROUP_ROOT / "cpu" / cgroups.GROUP).glob(f"{owner['groups']}*"))
        assert not leftovers
    from aqbench.emulated import network as lambda_network

    if lambda_network.available()[0]:  # none of the killed run's shaped classes is left on lo
        assert classes and not set(classes) & set(lambda_network.Shaper.counters())


def test_data_locality_runs_read_through_their_own_links(staged):
    """local and remote data, as the study compared them: every call's bytes come from its own
    link (where tc is allowed), and every remote call waited the cross-region delay before each
    object it read (a sleep: a lower bound whatever the load, where comparing the two runs'
    times is not)."""
    from aqbench.emulated import network as lambda_network

    grid = {"memory_mb": 1024, "objects_per_call": 2, "locality": ["local", "remote"]}
    code, out = run_engine(staged, "lithops", "locality", grid, "--emulate", "--warm")
    assert code == 0
    runs = {r["locality"]: r for r in runs_of(out)}
    assert {r["status"] for r in runs.values()} == {"ok"} and set(runs) == {"local", "remote"}
    maps = [c for c in calls_of(out) if c["phase"] == "map"]
    shaped = lambda_network.available()[0]
    assert all(c["network_emulated"] is shaped for c in maps)
    if shaped:  # the link saw the objects' bytes (plus headers and Lithops' own requests)
        assert all(c["bytes_read"] <= c["net_recv_bytes"] <= c["bytes_read"] + 200_000 for c in maps)
    delay_s = 0.08  # lithops.network.remote_latency_ms, the default of the spec's network
    remote = [c for c in maps if c["locality"] == "remote"]
    assert remote and all(c["duration_s"] >= delay_s * c["objects"] for c in remote)


def test_an_experiment_adds_its_billed_cost_to_the_ledger_and_a_spent_budget_stops_the_next(staged, capsys):
    """The AWS budget's ledger path, run on the emulated backend (its calls priced as if on Lambda)."""
    root, _ = staged
    ledger = root / "budget" / "ledger.json"
    code, _ = run_engine(staged, "lithops", "billed", {"memory_mb": 1024}, "--ledger", str(ledger), "--budget-usd", "5")
    assert code == 0
    spent = json.loads(ledger.read_text())
    assert spent["experiments"]["billed"] > 0 and spent["spent_usd"] == spent["experiments"]["billed"]
    capsys.readouterr()
    code, out = run_engine(
        staged, "lithops", "refused", {"memory_mb": 1024}, "--ledger", str(ledger), "--budget-usd", "0"
    )
    assert code == 2 and "aws.budget_usd" in capsys.readouterr().err
    assert not out.exists()


def test_lambdas_timeout_counts_for_the_whole_invocation(staged):
    """The study's timeout run, in small: every object an activation, all in one worker (one
    Lambda invocation). Activation 2 stalls (an injected fault) until the timeout strikes; the
    activations after it are not given a fresh timeout each, as they would be if the timeout were
    per activation: their invocation's time is up, so they end as timeouts too."""
    grid = {"memory_mb": 1024, "objects_per_call": 1, "chunksize": 6, "timeout_s": 15, "kernel": "seed"}
    code, out = run_engine(staged, "lithops", "timeout", grid, "--emulate", "--warm", "--faults",
                           json.dumps({"hang_map_call": 2}))  # fmt: skip
    assert code == 0
    (run,) = runs_of(out)
    assert run["status"] == "timeout"
    maps = sorted((c for c in calls_of(out) if c["phase"] == "map"), key=lambda c: c["call"])
    assert len({c["invocation"] for c in maps}) == 1 and [c["position"] for c in maps] == list(range(6))
    assert [c["status"] for c in maps] == ["success"] * 2 + ["timeout"] * 4
    began = maps[0]["t_dispatch"]  # the invocation's clock starts (after INIT) no earlier than its dispatch
    assert all(c["t_end"] >= began + 15 for c in maps[2:])  # none before the invocation's time was up


def test_idiomatic_duckdb_departs_from_the_specification_where_real_data_are_odd():
    """What the comparison exists to find: lines the record specification keeps or rejects that
    DuckDB's read_ndjson (columns, ignore_errors) reads otherwise. Each odd line below changes
    the idiomatic answer, and answer_differences counts it: no difference goes unseen."""
    from aqbench.aggregates import answer_differences
    from aqbench.engines.duckdb.engine import _duckdb_idiomatic
    from aqbench.kernels.reference import aggregate_files

    good = [line(value=10 + h, utc=f"2018-01-01T{h:02d}:00:00.000Z") for h in range(6)]
    odd = {
        "a string value": line(value="7.5", utc="2018-01-02T01:00:00.000Z"),  # spec: value_not_number
        "a byte-order mark": "\ufeff" + line(value=3.0, utc="2018-01-03T01:00:00.000Z"),  # spec: kept
        "a date that is not UTC": line(value=4.0, utc="2018-01-04T01:00:00+02:00"),  # spec: bad_date
    }
    body = ("\n".join(good + list(odd.values())) + "\n").encode("utf-8")

    class OneObject:  # the prefetch the engine hands the query: one object's bytes
        keys = ("df00000.ndjson",)

        def get(self, index: int) -> bytes:
            return body

    reference = aggregate_files([_bytes_file(body)]).aggregates
    answer = _duckdb_idiomatic(OneObject(), threads=1)
    diff = answer_differences(reference, _with_average(answer))
    assert diff["groups_exact"] >= 1  # the good lines agree
    assert diff["groups_unexpected"] + diff["groups_missing"] + diff["groups_count_differs"] >= 2, diff


def _bytes_file(body: bytes):
    from aqbench.inputs import FetchedObject

    return FetchedObject("df00000.ndjson", lambda: body)


def _with_average(table):
    import pyarrow.compute as pc

    return table.append_column("average", pc.divide(table.column("sum"), pc.cast(table.column("count"), "double")))


def test_an_engines_wall_splits_into_its_calls_parts_and_the_idle_rest():
    """Read, parse and partials from the calls' own clocks, submission-to-start and the rest of a call as
    scheduling, idle cores as waiting: together the wall; a task with no clock of its read says so."""
    from aqbench.bench.engines import split
    from aqbench.engines.runs import RunConfig, RunResult

    run = RunResult.new("lithops", RunConfig("bench"), ["a", "b"])
    run.wall_s = 10.0
    for call in range(2):  # each: submitted at 0, started at 1, ran 8 s of which 7 measured
        run.calls.append(run.call_row("map", call, t_submit=0.0, t_start=1.0, t_end=9.0, duration_s=8.0,
                                      time_read_s=2.0, time_parse_s=4.0, time_partials_s=1.0))  # fmt: skip
    parts = split(run, cores=2)
    assert parts == {"read": 2.0, "parse": 4.0, "partials": 1.0, "scheduling": 2.0, "waiting": 1.0}
    assert sum(parts.values()) == run.wall_s

    fused = RunResult.new("dask", RunConfig("bench", kernel="idiomatic"), ["a"])
    fused.wall_s = 4.0
    fused.calls += [fused.call_row("map", 0, duration_s=3.0, dask_task="to_dataframe"),
                    fused.call_row("map", 1, duration_s=1.0, dask_task="aggregate-agg")]  # fmt: skip
    parts = split(fused, cores=1)
    assert parts["read"] is None and parts["parse"] == 3.0 and parts["partials"] == 1.0 and parts["waiting"] == 0.0
