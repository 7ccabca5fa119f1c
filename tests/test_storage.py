"""The real local S3 server and staging into it: verified, idempotent, resumable."""

from __future__ import annotations

import base64
import json
import stat

import psutil
import pytest

from aqbench.aggregates import compare
from aqbench.errors import ConfigError
from aqbench.inputs import FetchedObject
from aqbench.kernels.reference import aggregate_files
from aqbench.storage import ChecksumMismatch, open_store
from aqbench.storage.localfs import LocalStore
from aqbench.storage.stage import Manifest, stage, subset_reference

from conftest import cli, line


@pytest.fixture
def server(s3_server):
    return s3_server


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for i in range(5):
        text = "\n".join([line(value=i + 0.5, utc=f"2018-01-0{i + 1}T0{h}:00:00.000Z") for h in range(6)] + ["bad"])
        (folder / f"df{i:05d}.ndjson").write_text(text + "\n", encoding="utf-8")
    return folder


def _counting(store, monkeypatch, fail_after=None):
    calls = []
    original = store.put

    def put(key, path, metadata):
        if fail_after is not None and len(calls) >= fail_after:
            raise OSError("connection reset (simulated interruption)")
        calls.append(key)
        original(key, path, metadata)

    monkeypatch.setattr(store, "put", put)
    return calls


def test_server_is_loopback_only_with_private_generated_credentials(server):
    info = server.info()
    assert info is not None and server.healthy(info)
    assert info.endpoint.startswith("http://127.0.0.1:")
    listening = [c.laddr.ip for c in psutil.Process(info.pid).net_connections(kind="inet") if c.status == "LISTEN"]
    assert listening and set(listening) == {"127.0.0.1"}
    assert stat.S_IMODE(server.credentials_file.stat().st_mode) == 0o600
    access, secret = server.credentials()
    assert access not in ("admin", "minioadmin", "AKIAIOSFODNN7EXAMPLE") and len(secret) >= 30
    assert server.up().pid == info.pid  # idempotent


def test_stage_verifies_and_is_idempotent(server, data, monkeypatch, tmp_path):
    store = open_store("s3-local", "stage-idem", {"state_dir": server.state_dir})
    calls = _counting(store, monkeypatch)
    manifest, partials = stage([data], store, "openaq/", progress=False)
    assert len(calls) == 5 and manifest.records == 35
    assert [o.key for o in manifest.objects] == [f"openaq/df{i:05d}.ndjson" for i in range(5)]
    again, _ = stage([data], store, "openaq/", progress=False)
    assert len(calls) == 5 and again == manifest  # nothing uploaded the second time
    sources = [FetchedObject(o.key, lambda o=o: store.get(o.key, o.expected)) for o in manifest.objects]
    staged, local = aggregate_files(sources), aggregate_files(sorted(data.glob("*.ndjson")))
    assert staged.aggregates.equals(local.aggregates) and staged.counts == local.counts
    assert staged.counts.records_read == manifest.records
    keys = [o.key for o in manifest.objects]
    # the reference of any subset is the merge of its objects' source partials
    assert compare(subset_reference(partials, keys), local.aggregates).equal
    assert manifest.counts(keys) == local.counts
    first_two = aggregate_files(sorted(data.glob("*.ndjson"))[:2])
    assert compare(subset_reference(partials, keys[:2]), first_two.aggregates).equal
    assert manifest.counts(keys[:2]) == first_two.counts


def test_interrupted_stage_is_completed_not_duplicated(server, data, monkeypatch):
    store = open_store("s3-local", "stage-resume", {"state_dir": server.state_dir})
    _counting(store, monkeypatch, fail_after=2)
    with pytest.raises(OSError, match="interruption"):
        stage([data], store, "openaq/", jobs=1, progress=False)
    monkeypatch.undo()
    calls = _counting(store, monkeypatch)
    manifest, _ = stage([data], store, "openaq/", progress=False)
    assert len(calls) == 3 and len(manifest.objects) == 5
    assert sorted(o.key for o in store.list("openaq/")) == sorted(o.key for o in manifest.objects)


def test_a_damaged_remote_object_is_replaced(server, data, monkeypatch):
    store = open_store("s3-local", "stage-damage", {"state_dir": server.state_dir})
    manifest, _ = stage([data], store, "openaq/", progress=False)
    store.client.put_object(Bucket=store.bucket, Key=manifest.objects[0].key, Body=b"truncated")
    calls = _counting(store, monkeypatch)
    stage([data], store, "openaq/", progress=False)
    assert calls == [manifest.objects[0].key]


def test_every_read_checks_length_and_checksum(server, data):
    """A byte changed in the store (same length) or a shorter object: the read fails naming the key."""
    store = open_store("s3-local", "stage-checksum", {"state_dir": server.state_dir})
    manifest, _ = stage([data], store, "openaq/", progress=False)
    obj = manifest.objects[1]
    body = bytearray(store.get(obj.key, obj.expected))
    body[40] = ord("7") if body[40] != ord("7") else ord("8")
    store.client.put_object(Bucket=store.bucket, Key=obj.key, Body=bytes(body))
    with pytest.raises(ChecksumMismatch, match=f"{obj.key}: its CRC32C differs"):
        store.get(obj.key, obj.expected)
    store.client.put_object(Bucket=store.bucket, Key=obj.key, Body=bytes(body[:-1]))
    with pytest.raises(ChecksumMismatch, match=f"{obj.key}: {obj.bytes - 1} bytes in the store"):
        store.get(obj.key, obj.expected)
    assert store.get(obj.key) == body[:-1]  # without a manifest entry nothing is checked


def test_data_survives_a_server_restart(server, data):
    store = open_store("s3-local", "stage-restart", {"state_dir": server.state_dir})
    manifest, _ = stage([data], store, "openaq/", progress=False)
    server.down()
    assert server.info() is None
    with pytest.raises(ConfigError, match="not running"):
        open_store("s3-local", "stage-restart", {"state_dir": server.state_dir})
    server.up()
    store = open_store("s3-local", "stage-restart", {"state_dir": server.state_dir})
    assert [store.head(o.key).metadata["sha256"] for o in manifest.objects] == [o.sha256 for o in manifest.objects]


def test_localhost_store_uses_lithops_layout(tmp_path, data):
    store = open_store("localhost", "aqbench", {"lithops_tmp": tmp_path / "lt"})
    assert isinstance(store, LocalStore)
    manifest, _ = stage([data], store, "openaq/", progress=False)
    assert (store.root / "openaq" / "df00000.ndjson").read_bytes() == (data / "df00000.ndjson").read_bytes()
    assert store.lithops_storage_config()["backend"] == "localhost"
    assert [o.key for o in store.list("openaq/")] == [o.key for o in manifest.objects]


def test_unknown_storage_kind_is_named():
    with pytest.raises(ConfigError, match="choose one of s3-local, localhost, aws"):
        open_store("minio", "b", {})


def test_cli_stage_and_verify_staged_reference(server, data, tmp_path, capsys):
    manifest_path = tmp_path / "manifest.json"
    store_args = ["--storage", "s3-local", "--bucket", "stage-cli", "--state", server.state_dir]
    partials = tmp_path / "reference.parquet"
    assert cli("stage", data, *store_args, "--manifest", manifest_path, "--reference", partials, "--quiet") == 0
    manifest = Manifest.read(manifest_path)
    assert json.loads(capsys.readouterr().out)["records"] == manifest.records == 35
    ref, staged = tmp_path / "ref.csv", tmp_path / "staged.csv"
    summary = tmp_path / "summary.json"
    assert cli("aggregate", data, "--out", ref) == 0
    assert cli("aggregate", "--manifest", manifest_path, *store_args, "--out", staged, "--summary", summary) == 0
    capsys.readouterr()
    out = tmp_path / "verify.json"
    verify = ["verify", "--expected", ref, "--actual", staged, "--summary", summary]
    assert cli(*verify, "--manifest", manifest_path, "--out", out) == 0
    assert json.loads(out.read_text())["records_read"] == 35
    # a run that lost records fails, and leaves no report
    summary.write_text(json.dumps({"records_read": 34}))
    out.unlink()
    assert cli(*verify, "--manifest", manifest_path, "--out", out) == 4
    assert "1 records were lost" in capsys.readouterr().err and not out.exists()


def test_the_aws_store_stages_through_botocore_with_its_checksum(server, data, monkeypatch):
    """The aws kind's own client and requests (credentials from the standard chain, here the
    environment), against the local server instead of AWS: staging uploads each object with its
    CRC32C, which the server checks. Before, botocore raised for want of ``awscrt`` before sending."""
    from aqbench.storage.s3 import S3Store

    access, secret = server.credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    store = S3Store.for_aws("aws-kind-test", "us-east-1", endpoint=server.endpoint())
    store.ensure_bucket()
    manifest, _ = stage([data], store, prefix="aws/", progress=False)
    assert len(manifest.objects) == 5
    for obj in manifest.objects:
        assert bytes(store.get(obj.key, obj.expected)) == (data / obj.key.removeprefix("aws/")).read_bytes()
        kept = store.client.head_object(Bucket=store.bucket, Key=obj.key, ChecksumMode="ENABLED")
        assert base64.b64decode(kept["ChecksumCRC32C"]) == obj.expected.crc32c.to_bytes(4, "big")


def test_bytes_that_differ_from_their_checksum_are_refused_by_the_server(server, tmp_path, monkeypatch):
    from botocore.exceptions import ClientError

    from aqbench.storage import checksum_header
    from aqbench.storage.s3 import S3Store

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.credentials()[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.credentials()[1])
    store = S3Store.for_aws("aws-kind-test", "us-east-1", endpoint=server.endpoint())
    store.ensure_bucket()
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_bytes(b"a line\n" * 100)
    bad.write_bytes(b"a lime\n" * 100)
    monkeypatch.setattr("aqbench.storage.checksum_header", lambda path: checksum_header(good))
    store.put("good", good, {})
    with pytest.raises(ClientError, match="BadDigest"):
        store.put("bad", bad, {})
    assert store.head("bad") is None


def test_a_clusters_workers_open_the_bucket_at_their_endpoint_with_their_own_credentials(server, data, monkeypatch):
    """``StoreSpec.for_workers``: what a Dask task carries is the bucket, region and endpoint, never
    a secret; opened where the credentials are in the environment, it reads what was staged."""
    from aqbench.storage import StoreSpec

    spec = StoreSpec("s3-local", "workers-view", {"state_dir": str(server.state_dir), "region": "us-east-1"})
    manifest, _ = stage([data], spec.open(), prefix="w/", progress=False)
    theirs = spec.for_workers(server.endpoint())
    access, secret = server.credentials()
    assert secret not in theirs.to_json() and access not in theirs.to_json()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    store = StoreSpec.from_json(theirs.to_json()).open()
    obj = manifest.objects[0]
    assert bytes(store.get(obj.key, obj.expected)) == (data / obj.key.removeprefix("w/")).read_bytes()
    assert store.fsspec() == ("s3", {"client_kwargs": {"endpoint_url": server.endpoint()}})
