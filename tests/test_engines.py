"""Lithops and Dask as real engines on the real local S3 server, every run checked against the reference."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from aqbench.cli import main
from aqbench.storage import open_store
from aqbench.storage.stage import stage

from conftest import line

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def staged(s3_server, tmp_path_factory):
    """A few objects staged in their own bucket, with the reference of all of them."""
    root = tmp_path_factory.mktemp("engines")
    data = root / "data"
    data.mkdir()
    for i in range(6):
        lines = [
            line(value=i + h / 7, utc=f"2018-01-0{1 + i % 3}T{h:02d}:00:00.000Z", city=["Kraków", None][h % 2])
            for h in range(24)
        ]
        lines += ["{broken", line(value=-999), line(unit="ppm", parameter="co", value=0.3 + i)]
        (data / f"df{i:05d}.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = open_store("s3-local", "engines-test", {"state_dir": s3_server.state_dir})
    manifest = stage([data], store, "openaq/", progress=False)
    manifest.write(root / "manifest.json")
    assert main(["aggregate", str(data), "--out", str(root / "reference.csv")]) == 0
    store_args = [
        "--storage",
        "s3-local",
        "--bucket",
        "engines-test",
        "--state",
        str(s3_server.state_dir),
        "--lithops-tmp",
        str(root / "lithops-tmp"),
    ]
    return root, store_args


def _runs(folder: Path) -> list[dict]:
    return pq.read_table(folder / "runs.parquet").to_pylist()


def test_lithops_runs_are_verified_and_recorded(staged, capsys):
    root, store_args = staged
    out = root / "lithops-grid"
    grid = {"memory_mb": [1024], "objects_per_call": [1, 4], "reducers": [1, 3], "kernel": ["arrow", "seed"]}
    assert (
        main(
            [
                "run-lithops",
                "--experiment",
                "grid",
                "--grid",
                json.dumps(grid),
                "--repetitions",
                "1",
                "--manifest",
                str(root / "manifest.json"),
                "--reference",
                str(root / "reference.csv"),
                "--out",
                str(out),
                *store_args,
                "--lithops-home",
                str(root / "lithops-home"),
            ]
        )
        == 0
    )
    runs = _runs(out)
    assert len(runs) == 8 and {r["status"] for r in runs} == {"ok"}
    assert all(r["records_read"] == 6 * 27 for r in runs)
    calls = pq.read_table(out / "calls.parquet").to_pylist()
    maps = [c for c in calls if c["phase"] == "map" and c["objects_per_call"] == 1]
    assert maps and all(c["bytes_read"] > 0 and c["duration_s"] > 0 and c["t_start"] >= c["t_submit"] for c in maps)
    env = json.loads((out / "environment.json").read_text())
    assert env["cores"] and env["packages"]["lithops"]
    assert len(list((out / "aggregates").glob("*.parquet"))) == 8
    capsys.readouterr()


def test_lithops_timeout_is_a_data_point_not_a_crash(staged):
    root, store_args = staged
    out = root / "lithops-timeout"
    grid = {"memory_mb": 1024, "objects_per_call": 1000, "timeout_s": 0.01, "kernel": "seed"}
    assert (
        main(
            [
                "run-lithops",
                "--experiment",
                "timeout",
                "--grid",
                json.dumps(grid),
                "--repetitions",
                "1",
                "--manifest",
                str(root / "manifest.json"),
                "--reference",
                str(root / "reference.csv"),
                "--out",
                str(out),
                *store_args,
                "--lithops-home",
                str(root / "lithops-home"),
            ]
        )
        == 0
    )
    (run,) = _runs(out)
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
    root, store_args = staged
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
        out = root / "dask-remote"
        grid = {"kernel": ["arrow", "idiomatic", "seed"], "reducers": [1, 2]}
        assert (
            main(
                [
                    "run-dask",
                    "--experiment",
                    "remote",
                    "--grid",
                    json.dumps(grid),
                    "--repetitions",
                    "1",
                    "--manifest",
                    str(root / "manifest.json"),
                    "--reference",
                    str(root / "reference.csv"),
                    "--out",
                    str(out),
                    *store_args,
                    "--scheduler-address",
                    address,
                ]
            )
            == 0
        )
        runs = _runs(out)
        assert len(runs) == 6 and {r["status"] for r in runs} == {"ok"}
        calls = pq.read_table(out / "calls.parquet").to_pylist()
        workers = {c["worker"] for c in calls}
        assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def test_dask_local_cluster_fraction(staged):
    root, store_args = staged
    out = root / "dask-local"
    grid = {"kernel": "arrow", "workers": 2, "memory_mb": 1024, "fraction": [0.5, 1.0]}
    assert (
        main(
            [
                "run-dask",
                "--experiment",
                "scaling",
                "--grid",
                json.dumps(grid),
                "--repetitions",
                "1",
                "--manifest",
                str(root / "manifest.json"),
                "--reference",
                str(root / "reference.csv"),
                "--out",
                str(out),
                *store_args,
            ]
        )
        == 0
    )
    assert [r["records_read"] for r in _runs(out)] == [3 * 27, 6 * 27]
