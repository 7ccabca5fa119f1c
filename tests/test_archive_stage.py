"""Staging at scale, offline: the local S3 server plays both the public archive and the user's bucket,
and the staging calls run through Lithops (localhost backend) exactly as they would on Lambda."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from aqbench.aggregates import compare, read_csv
from aqbench.cli import main
from aqbench.inputs import FetchedObject
from aqbench.kernels.reference import aggregate_files
from aqbench.sources.archive import fetch
from aqbench.storage import open_store
from aqbench.storage.stage import REFERENCE_OBJECT, Manifest, subset_reference

from conftest import ARCHIVE, DAYS

pytestmark = pytest.mark.slow


def _stage(s3_server, tmp_path, bucket: str, *extra: str) -> dict:
    out = tmp_path / "staged"
    out.mkdir(exist_ok=True)
    argv = ["stage-openaq", "--storage", "s3-local", "--bucket", bucket, "--state", str(s3_server.state_dir)]
    argv += ["--lithops-tmp", str(tmp_path / "lithops-tmp"), "--lithops-home", str(tmp_path / "lithops-home")]
    argv += ["--archive-bucket", ARCHIVE, "--archive-local", "--country", "PL", "--max-locations", "5"]
    argv += ["--start", f"{DAYS[0]}", "--end", f"{DAYS[-1]}", "--object-size", "20KB", "--files-per-call", "6"]
    argv += ["--prefix", "openaq/", "--manifest", str(out / "manifest.json"), "--reference", str(out / "ref.parquet")]
    assert main([*argv, "--quiet", *extra]) == 0
    return json.loads((out / "manifest.json").read_text())


def test_lithops_calls_stage_the_archive_into_the_bucket_idempotently(archive_bucket, s3_server, tmp_path, capsys):
    bucket = "archive-stage-target"
    manifest = _stage(s3_server, tmp_path, bucket)
    stats = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # 5 PL locations x 4 days = 20 files, 6 a call: 4 calls, each cutting ~20 KB objects
    assert stats["files"] == 20 and stats["groups"] == 4 and stats["invoked"] == 4
    assert stats["objects"] == manifest["objects_count"] > 4
    assert all(o["key"].startswith("openaq/g0000") for o in manifest["objects"])

    # the reference, independent of the staging path: the same files fetched to this machine,
    # aggregated by one DuckDB query
    local = tmp_path / "local"
    fetch(local, "PL", DAYS[0], DAYS[-1], 5, "20KB", client=archive_bucket, bucket=ARCHIVE, progress=False)
    expected = aggregate_files(sorted(local.glob("*.ndjson")))
    assert expected.counts.rejected_by_reason.keys() == {"value_negative", "value_not_number"}
    staged = Manifest.read(tmp_path / "staged" / "manifest.json")
    keys = [o.key for o in staged.objects]
    partials = pq.read_table(tmp_path / "staged" / "ref.parquet")
    assert set(partials.column(REFERENCE_OBJECT).to_pylist()) <= set(keys)
    assert compare(expected.aggregates, subset_reference(partials, keys)).equal
    counts = staged.counts(keys)
    assert counts.records_read == expected.counts.records_read == 5 * 4 * 24 * 3
    assert counts.rejected_by_reason == expected.counts.rejected_by_reason

    # the bucket holds what the manifest says: read back, checksummed, aggregated
    store = open_store("s3-local", bucket, {"state_dir": s3_server.state_dir})
    objects = [FetchedObject(o.key, lambda o=o: store.get(o.key, o.expected)) for o in staged.objects]
    assert compare(expected.aggregates, aggregate_files(objects).aggregates).equal

    # the workflow's reference and check for this source: the partials merged; every object in place
    ref, summary, report = tmp_path / "ref.csv", tmp_path / "summary.json", tmp_path / "verify.json"
    staged_args = ["--manifest", str(tmp_path / "staged" / "manifest.json")]
    assert main(["aggregate", "--partials", str(tmp_path / "staged" / "ref.parquet"), *staged_args,
                 "--out", str(ref), "--summary", str(summary)]) == 0  # fmt: skip
    assert compare(expected.aggregates, read_csv(ref)).equal
    assert json.loads(summary.read_text())["records_read"] == expected.counts.records_read
    store_args = ["--storage", "s3-local", "--bucket", bucket, "--state", str(s3_server.state_dir)]
    assert main(["verify-bucket", *staged_args, *store_args, "--out", str(report)]) == 0
    capsys.readouterr()

    # a rerun invokes nothing; an object gone from the bucket redoes its group, and only it
    again = _stage(s3_server, tmp_path, bucket)
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["invoked"] == 0
    assert again == manifest
    store.client.delete_object(Bucket=bucket, Key=staged.objects[-1].key)
    third = _stage(s3_server, tmp_path, bucket)
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["invoked"] == 1
    assert third == manifest

    store.client.delete_object(Bucket=bucket, Key=staged.objects[0].key)
    report.unlink()
    assert main(["verify-bucket", *staged_args, *store_args, "--out", str(report)]) != 0
    assert "1 of" in capsys.readouterr().err and not report.exists()


def test_an_unknown_country_fails_with_one_line_and_writes_nothing(archive_bucket, s3_server, tmp_path, capsys):
    argv = ["stage-openaq", "--storage", "s3-local", "--bucket", "x-target", "--state", str(s3_server.state_dir)]
    argv += ["--lithops-tmp", str(tmp_path / "t"), "--lithops-home", str(tmp_path / "h"), "--quiet"]
    argv += ["--archive-bucket", ARCHIVE, "--archive-local", "--country", "XX"]
    argv += ["--manifest", str(tmp_path / "m.json"), "--reference", str(tmp_path / "r.parquet")]
    assert main(argv) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no locations for country 'XX'" in err[0]
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "r.parquet").exists()
