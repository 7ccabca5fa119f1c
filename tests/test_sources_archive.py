"""The openaq-data-archive source, offline: fixture files in the archive's exact layout and
format, served by the real local S3 server."""

from __future__ import annotations

import gzip
from datetime import date

import pytest

from aqbench.cli import main
from aqbench.errors import DataError
from aqbench.kernels.reference import aggregate_files
from aqbench.sources.archive import convert_rows, fetch
from aqbench.storage.s3 import local_client

HEADER = "location_id,sensors_id,location,datetime,lat,lon,parameter,units,value\n"


def _csv(loc: int, day: str, rows: list[str]) -> bytes:
    return gzip.compress((HEADER + "".join(r + "\n" for r in rows)).encode())


@pytest.fixture
def archive(s3_server):
    client = local_client(s3_server.endpoint(), *s3_server.credentials())
    bucket = "openaq-archive-fixture"
    if bucket not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=bucket)
    files = {
        "records/csv.gz/provider=gios/country=pl/locationid=101/year=2024/month=01/location-101-20240101.csv.gz": _csv(
            101,
            "20240101",
            [
                '101,7,"Kraków, Aleja Krasińskiego",2024-01-01T01:00:00+01:00,50.057678,19.926189,pm10,µg/m³,41.2',
                '101,7,"Kraków, Aleja Krasińskiego",2024-01-01T02:00:00+01:00,50.057678,19.926189,pm10,µg/m³,39.0',
                '101,8,"Kraków, Aleja Krasińskiego",2024-01-01T02:00:00+01:00,50.057678,19.926189,no2,µg/m³,-999',
            ],
        ),
        "records/csv.gz/provider=gios/country=pl/locationid=101/year=2024/month=01/location-101-20240102.csv.gz": _csv(
            101,
            "20240102",
            [
                '101,7,"Kraków, Aleja Krasińskiego",2024-01-02T00:30:00+01:00,50.057678,19.926189,pm10,µg/m³,80',
            ],
        ),
        "records/csv.gz/provider=gios/country=pl/locationid=205/year=2024/month=01/location-205-20240101.csv.gz": _csv(
            205, "20240101", ["205,9,Gdańsk Wyzwolenia,2024-01-01T12:00:00+01:00,,,pm25,µg/m³,12.5"]
        ),
        "records/csv.gz/provider=eea/country=de/locationid=300/year=2024/month=01/location-300-20240101.csv.gz": _csv(
            300, "20240101", ["300,1,Berlin,2024-01-01T12:00:00+01:00,52.5,13.4,pm25,µg/m³,7"]
        ),
    }
    for key, body in files.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)
    return client, bucket


def test_fetch_converts_a_country_into_legacy_lines(archive, tmp_path):
    client, bucket = archive
    stats = fetch(
        tmp_path / "d",
        "PL",
        date(2024, 1, 1),
        date(2024, 1, 3),
        client=client,
        bucket=bucket,
        object_size="1KB",
        progress=False,
    )
    assert stats == {"locations": 2, "files": 3, "objects": stats["objects"], "lines": 5}
    result = aggregate_files(sorted((tmp_path / "d").glob("*.ndjson")))
    assert result.counts.rejected_by_reason == {"value_negative": 1}
    rows = {
        (r["city"], r["latitude"], r["day"], r["parameter"]): (r["count"], r["max"])
        for r in result.aggregates.to_pylist()
    }
    # 2024-01-02T00:30+01:00 is still 2024-01-01 in UTC; the archive has no city
    assert rows == {
        ("", 50.057678, "2024-01-01", "pm10"): (3, 80.0),
        ("", None, "2024-01-01", "pm25"): (1, 12.5),
    }
    assert {r["country"] for r in result.aggregates.to_pylist()} == {"PL"}


def test_max_locations_takes_the_lowest_ids(archive, tmp_path):
    client, bucket = archive
    stats = fetch(
        tmp_path / "d",
        "PL",
        date(2024, 1, 1),
        date(2024, 1, 1),
        max_locations=1,
        client=client,
        bucket=bucket,
        progress=False,
    )
    assert stats["locations"] == 1 and stats["lines"] == 3


def test_unknown_country_is_a_clear_error(archive, tmp_path):
    client, bucket = archive
    with pytest.raises(DataError, match="no locations for country 'XX'"):
        fetch(tmp_path / "d", "XX", date(2024, 1, 1), date(2024, 1, 1), client=client, bucket=bucket)
    assert not (tmp_path / "d").exists()


def test_bad_values_are_kept_for_the_readers_to_reject():
    body = _csv(1, "x", ["1,1,A,not-a-date,,,pm10,µg/m³,abc"])
    (line,) = convert_rows(body, "pl", "p")
    assert b'"value": "abc"' in line and b'"utc": "not-a-date"' in line and b'"country": "PL"' in line


def test_without_network_the_cli_fails_with_one_line(tmp_path, monkeypatch, capsys):
    from aqbench.sources import public_s3

    unreachable = public_s3.anonymous_client(endpoint="http://127.0.0.1:9")  # the real client, refused at once
    monkeypatch.setattr(public_s3, "anonymous_client", lambda *args, **kwargs: unreachable)
    rc = main(
        [
            "fetch-openaq",
            "--country",
            "PL",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-02",
            "--out",
            str(tmp_path / "d"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 3 and len(err) == 1 and "needs the internet" in err[0]
    assert not (tmp_path / "d").exists()
