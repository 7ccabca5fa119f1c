"""The Dask path on a cluster of separate hosts (network namespaces), as docs/dask-cluster.md sets it up.

The slow tests run the tiny profile's Dask experiment through ``aqbench run-dask`` with
``--scheduler-address`` and ``--store-endpoint``, as the workflow's rule does for a profile that
sets them, on a real scheduler, two real workers and the real SeaweedFS server, each in its own
host; then a worker host lost mid-run, the store's link cut for a moment, and the scheduler
unreachable at the preflight. They skip with one line where this machine cannot create
namespaces (not root, no ``ip``).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from aqbench.defaults import experiments, schema_default
from aqbench.errors import ConfigError
from aqbench.settings import Dask
from netns_cluster import PAGE, WORKERS, Cluster, steps

from conftest import REPO, cli, engine_spec

TINY = yaml.safe_load((REPO / "workflow" / "config" / "tiny.yaml").read_text())
BASELINE = experiments("dask", TINY["dask"])["baseline"]["grid"]
ARROW = {**BASELINE, "kernel": "arrow"}
LOST_AFTER_S = 15
"""The page's scheduler TCP timeout: how long the scheduler waits before it gives a lost host's tasks away."""


# -- the page and the checks, without a cluster ---------------------------------------------------


def test_the_page_gives_every_hosts_step_with_credentials_only_in_the_environment():
    values = dict.fromkeys(("STATE", "STORE_HOST", "SCHEDULER_HOST", "WORKER_HOST"), "10.0.0.1")
    found = steps(values | {"ACCESS_KEY": "AKEXAMPLE", "SECRET_KEY": "s3cr3t"})
    (_, store), (_, scheduler) = found["store"].commands[0], found["scheduler"].commands[0]
    [(env, worker)] = found["worker"].commands
    assert store[:3] == ["aqbench", "storage", "up"] and "--host" in store
    assert scheduler[:2] == ["dask", "scheduler"] and found["scheduler"].commands[0][0] == {
        "DASK_DISTRIBUTED__COMM__TIMEOUTS__TCP": f"{LOST_AFTER_S}s"
    }
    assert worker[:3] == ["dask", "worker", "tcp://10.0.0.1:8786"] and "--nthreads" in worker
    assert env == {"AWS_ACCESS_KEY_ID": "AKEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}
    assert not any("s3cr3t" in word for word in worker)  # not in argv: `ps` shows argv
    with pytest.raises(KeyError):  # a name the page uses and the tests do not give: page and tests disagree
        steps({})


def test_the_page_names_settings_that_exist_and_the_readme_links_it():
    text = PAGE.read_text()
    profile = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.S).group(1))
    assert set(profile["dask"]) <= set(schema_default("dask")) | {"experiments"}
    assert "lambda_terms" in profile["dask"]["experiments"]
    readme = (REPO / "README.md").read_text()
    assert re.search(r"any Dask cluster by\s+`dask\.scheduler_address`, \[docs/dask-cluster\.md\]", readme)


class _Client:
    def __init__(self, versions):
        self.versions = versions

    def run(self, fn):
        return self.versions


def test_a_worker_of_another_version_is_one_line_naming_it():
    from aqbench.engines.dask.cluster import check_workers, package_versions

    here = package_versions()
    check_workers(_Client({"tcp://10.0.0.2:1": here, "tcp://10.0.0.3:1": here}))
    with pytest.raises(ConfigError, match=r"dask worker tcp://10\.0\.0\.3:1 runs pyarrow 1\.0 \(here ") as err:
        check_workers(_Client({"tcp://10.0.0.2:1": here, "tcp://10.0.0.3:1": here | {"pyarrow": "1.0"}}))
    assert "\n" not in str(err.value)


def test_a_store_endpoint_without_a_cluster_is_refused():
    from aqbench.engines.dask.engine import DaskEngine
    from aqbench.storage import StoreSpec

    with pytest.raises(ConfigError, match=r"dask\.store_endpoint .* set dask\.scheduler_address"):
        DaskEngine(StoreSpec("localhost", "b", {"lithops_tmp": "/nonexistent"}), {}, store_endpoint="http://h:1")


# -- the cluster ------------------------------------------------------------------------------------

CLUSTER_TEST_TIMEOUT_S = 240
"""Each cluster test, its share of the cluster's setup included: a broken host must fail the test,
not hang the session (the fixture's teardown still removes everything)."""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Scheduler, two workers and the store, each a host of its own; removed, and checked gone, after."""
    from aqbench.emulated import hosts

    ok, why = hosts.available()
    if not ok:
        pytest.skip(f"no test hosts on this machine: {why}")
    built = Cluster(tmp_path_factory.mktemp("cluster"))
    pids = [p for h in built.network.hosts.values() for p in h.pids()]
    try:
        yield built
    finally:
        built.close()
        left, alive = hosts.remains(built.network.slot), hosts.running(pids)
        assert not (left or alive), f"left behind: namespaces and links {left}, processes {alive}"


@pytest.fixture(scope="module")
def tiny(cluster, tmp_path_factory):
    """The tiny profile's synthetic data, staged into the cluster's store as the workflow stages it."""
    root = tmp_path_factory.mktemp("tiny")
    data, synth = TINY["data"], TINY["data"]["synthetic"]
    assert cli("generate", "--size", synth["size"], "--seed", synth["seed"], "--days", synth["days"],
               "--object-size", data["object_size"], "--quiet", "--out", root / "data") == 0  # fmt: skip
    store = ["--storage", "s3-local", "--bucket", TINY["storage"]["bucket"], "--state", cluster.state]
    assert cli("stage", root / "data", *store, "--prefix", TINY["storage"]["prefix"], "--manifest",
               root / "manifest.json", "--reference", root / "reference.parquet", "--quiet") == 0  # fmt: skip
    return root, store


def run_on_cluster(cluster: Cluster, tiny, name: str, grid: dict) -> tuple[int, Path]:
    """``aqbench run-dask`` as the workflow's rule runs it for a profile naming the cluster."""
    root, store = tiny
    out = root / name
    spec = engine_spec(root, store, "dask", "baseline", grid, "--scheduler-address", cluster.scheduler_address)
    cluster_spec = json.loads(spec.read_text())
    cluster_spec["dask"] |= {"store_endpoint": cluster.store_endpoint, "retries": Dask().retries}
    spec.write_text(json.dumps(cluster_spec))
    code = cli("run-dask", "--spec", spec, "--manifest", root / "manifest.json", "--reference",
               root / "reference.parquet", "--out", out)  # fmt: skip
    return code, out


def host_of(cluster: Cluster, worker: str) -> str:
    return next(name for prefix, name in cluster.worker_addresses().items() if worker.startswith(prefix))


def when_a_map_runs(cluster: Cluster, on: str | None, action) -> threading.Thread:
    """Call ``action`` as soon as the scheduler has a map task processing (on host ``on``, or any)."""

    def watch() -> None:
        with cluster.client() as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                busy = [w for w, keys in client.processing().items() if any("map-" in str(k) for k in keys)]
                if any(on is None or host_of(cluster, w) == on for w in busy):
                    action()
                    return
                time.sleep(0.01)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
@pytest.mark.timeout(CLUSTER_TEST_TIMEOUT_S)
def test_tiny_dask_experiment_runs_verified_on_the_cluster_and_rows_name_the_hosts(cluster, tiny, capsys):
    with cluster.client() as client:  # the workers cannot open the store as the driver does: no state folder
        assert not any(client.run(os.path.exists, str(cluster.state / "server.json")).values())
    assert (cluster.state / "server.json").exists()
    before = {name: cluster.network.received(name) for name in WORKERS}
    code, out = run_on_cluster(cluster, tiny, "baseline", BASELINE)
    assert code == 0
    runs = pq.read_table(out / "runs.parquet").to_pylist()
    assert [r["kernel"] for r in runs] == ["arrow", "idiomatic"] and all(r["status"] == "ok" for r in runs)
    calls = pq.read_table(out / "calls.parquet").to_pylist()
    maps = [c for c in calls if c["kernel"] == "arrow" and c["phase"] == "map"]
    assert {host_of(cluster, c["worker"]) for c in calls} == set(WORKERS)  # both hosts, and only they
    assert {host_of(cluster, c["worker"]) for c in maps} == set(WORKERS)
    assert sum(c["bytes_read"] for c in maps) == runs[0]["bytes"]
    if cluster.network.shaped:  # the reads crossed the workers' shaped links (both kernels read everything)
        received = sum(cluster.network.received(name) - before[name] for name in WORKERS)
        assert received > runs[0]["bytes"] + runs[1]["bytes"]
    _, secret = cluster.credentials()
    files = [*out.rglob("*"), *cluster.logs.rglob("*")]
    assert not [f for f in files if f.is_file() and secret.encode() in f.read_bytes()], "a secret was written"
    printed = capsys.readouterr()
    assert secret not in printed.out + printed.err


@pytest.mark.slow
@pytest.mark.timeout(CLUSTER_TEST_TIMEOUT_S)
def test_the_stores_link_cut_for_a_moment_delays_the_run_that_completes_verified(cluster, tiny):
    cut: dict[str, float] = {}

    def cut_store() -> None:
        cluster.network.cut("store")
        cut["at"] = time.time()
        time.sleep(2.0)
        cluster.network.restore("store")
        cut["back"] = time.time()

    watcher = when_a_map_runs(cluster, None, cut_store)
    code, out = run_on_cluster(cluster, tiny, "store-cut", ARROW)
    watcher.join(timeout=30)
    assert code == 0 and "back" in cut
    [run] = pq.read_table(out / "runs.parquet").to_pylist()
    maps = [c for c in pq.read_table(out / "calls.parquet").to_pylist() if c["phase"] == "map"]
    assert run["status"] == "ok"
    assert any(c["t_start"] < cut["back"] < c["t_end"] for c in maps), "no map task waited for the store"


@pytest.mark.slow
@pytest.mark.timeout(CLUSTER_TEST_TIMEOUT_S)
def test_a_worker_host_lost_mid_run_is_recovered_by_dask_and_the_run_verified(cluster, tiny):
    lost: dict[str, float] = {}

    def lose() -> None:
        cluster.lose("worker2")
        lost["at"] = time.time()

    watcher = when_a_map_runs(cluster, "worker2", lose)
    try:
        code, out = run_on_cluster(cluster, tiny, "lost-worker", ARROW)
        watcher.join(timeout=30)
        assert code == 0 and "at" in lost
        [run] = pq.read_table(out / "runs.parquet").to_pylist()
        calls = pq.read_table(out / "calls.parquet").to_pylist()
        assert run["status"] == "ok" and run["wall_s"] >= LOST_AFTER_S * 0.8  # waited for the TCP timeout
        after = [c for c in calls if c["t_end"] > lost["at"]]
        assert after and {host_of(cluster, c["worker"]) for c in after} == {"worker1"}
    finally:
        cluster.revive("worker2")
        cluster.wait_for_workers(len(WORKERS))


@pytest.mark.slow
@pytest.mark.timeout(CLUSTER_TEST_TIMEOUT_S)
def test_every_worker_host_lost_fails_the_run_in_one_line_naming_them_and_keeps_nothing(
    cluster, tiny, capsys, monkeypatch
):
    monkeypatch.setattr("aqbench.engines.dask.cluster.LOST_CLUSTER_GRACE_S", 3.0)

    def lose_all() -> None:
        for name in WORKERS:
            cluster.lose(name)

    watcher = when_a_map_runs(cluster, None, lose_all)
    try:
        code, out = run_on_cluster(cluster, tiny, "cluster-lost", ARROW)
        watcher.join(timeout=30)
    finally:
        for name in WORKERS:
            cluster.revive(name)
        cluster.wait_for_workers(len(WORKERS))
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code != 0 and "every worker of the cluster was lost" in err
    assert all(f"tcp://{cluster.network[name].address}:" in err for name in WORKERS)
    assert not (out / "runs.parquet").exists() and not (out / "aggregates").exists()


@pytest.mark.slow
@pytest.mark.timeout(CLUSTER_TEST_TIMEOUT_S)
def test_an_unreachable_scheduler_is_the_preflights_one_line(cluster, capsys):
    cluster.network.cut("scheduler")
    try:
        code = cli("preflight", "--storage", "s3-local", "--scheduler-address", cluster.scheduler_address)
    finally:
        cluster.network.restore("scheduler")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert f"dask.scheduler_address {cluster.scheduler_address}: cannot connect" in err[0]
