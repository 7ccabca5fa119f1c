"""Real OpenAQ data from the public ``openaq-data-archive`` bucket, converted to the legacy lines.

The archive holds one gzip CSV per location and day
(``records/csv.gz/provider=P/country=CC/locationid=ID/year=YYYY/month=MM/location-ID-YYYYMMDD.csv.gz``,
columns ``location_id,sensors_id,location,datetime,lat,lon,parameter,units,value``). Each row
becomes one legacy realtime line, so every later step runs unchanged. The archive has no
city: the field is left out (it aggregates as the empty city). The country comes from the
``country=`` part of the path. Rows are converted, never filtered: a bad value stays bad
and is rejected, with its reason, by the readers.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from tqdm import tqdm

from aqbench.batching import ObjectFolder
from aqbench.errors import ConfigError, DataError
from aqbench.sources.synth.generate import parse_size

log = logging.getLogger(__name__)

BUCKET = "openaq-data-archive"
ROOT = "records/csv.gz/"


def _prefixes(client: Any, bucket: str, prefix: str) -> list[str]:
    found = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        found += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return found


def _value(prefix: str, name: str) -> str:
    """``provider=airnow/`` → ``airnow``."""
    part = prefix.rstrip("/").rsplit("/", 1)[-1]
    key, _, value = part.partition("=")
    return value if key == name else ""


def location_prefixes(client: Any, country: str, bucket: str = BUCKET) -> list[tuple[str, str, int]]:
    """(provider, prefix, location id) of every location of ``country``, sorted by id."""
    found = []
    for provider_prefix in _prefixes(client, bucket, ROOT + "provider="):
        for country_prefix in _prefixes(client, bucket, provider_prefix + "country="):
            if _value(country_prefix, "country").upper() != country.upper():
                continue
            for loc_prefix in _prefixes(client, bucket, country_prefix + "locationid="):
                loc = _value(loc_prefix, "locationid")
                if loc.isdigit():
                    found.append((_value(provider_prefix, "provider"), loc_prefix, int(loc)))
    return sorted(found, key=lambda t: t[2])


def convert_rows(body: bytes, country: str, provider: str) -> Iterator[bytes]:
    """One archive CSV (gzip) as legacy realtime lines."""
    text = gzip.decompress(body).decode("utf-8")
    for row in csv.DictReader(io.StringIO(text)):
        local = row["datetime"]
        try:
            utc = datetime.fromisoformat(local).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        except ValueError:
            utc = local  # kept as it is: the readers reject it as bad_date
        try:
            value: Any = float(row["value"])
        except (TypeError, ValueError):
            value = row["value"]  # kept: rejected as value_not_number
        rec: dict[str, Any] = {
            "date": {"utc": utc, "local": local},
            "parameter": row["parameter"],
            "value": value,
            "unit": row["units"],
            "averagingPeriod": {"value": 1, "unit": "hours"},
            "location": row["location"],
            "country": country.upper(),
        }
        if row.get("lat") and row.get("lon"):
            rec["coordinates"] = {"latitude": float(row["lat"]), "longitude": float(row["lon"])}
        rec.update(attribution=[{"name": provider}], sourceName=provider, sourceType="government", mobile=False)
        yield json.dumps(rec, ensure_ascii=False).encode("utf-8")


def fetch(
    out: str | Path,
    country: str,
    start: date,
    end: date,
    max_locations: int = 50,
    object_size: int | str = "25MB",
    client: Any = None,
    bucket: str = BUCKET,
    progress: bool = True,
) -> dict[str, int]:
    """Download ``country``'s measurements from ``start`` to ``end`` into legacy-format objects."""
    if end < start:
        raise ConfigError(f"end {end} is before start {start}: give start <= end")
    if client is None:
        from aqbench.sources.public_s3 import anonymous_client

        client = anonymous_client()
    try:
        locations = location_prefixes(client, country, bucket)[:max_locations]
    except (EndpointConnectionError, BotoCoreError, ClientError) as exc:
        raise DataError(
            f"cannot reach s3://{bucket} ({exc}); this source needs the internet: offline, use data.source: synthetic"
        ) from exc
    if not locations:
        raise DataError(f"no locations for country {country!r} in s3://{bucket}/{ROOT}: check the code")
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    files = 0
    with ObjectFolder(out, parse_size(object_size)) as folder:
        for day in tqdm(days, unit="day", desc=f"fetch {country}", disable=not progress):
            for provider, prefix, loc in locations:
                key = f"{prefix}year={day:%Y}/month={day:%m}/location-{loc}-{day:%Y%m%d}.csv.gz"
                try:
                    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                        continue  # no measurements that day
                    raise DataError(f"s3://{bucket}/{key}: {exc}") from exc
                except (EndpointConnectionError, BotoCoreError) as exc:
                    raise DataError(f"lost the connection to s3://{bucket} ({exc}); rerun to try again") from exc
                files += 1
                for line in convert_rows(body, country, provider):
                    folder.add(line)
    log.info("fetched %d files of %d locations into %d objects", files, len(locations), folder.objects)
    return {"locations": len(locations), "files": files, "objects": folder.objects, "lines": folder.lines}
