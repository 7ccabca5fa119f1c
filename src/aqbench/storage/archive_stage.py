"""Staging at scale: Lithops calls fetch the public OpenAQ archive straight into the bucket.

Downloading 50 GB through a laptop to upload it again is the slow way; the study put the
data next to the functions. Here the driver only lists the archive (which location-day
files exist in the period) and cuts that list into groups. Each group is one Lithops call
(a Lambda function on the aws profile) that downloads its files, converts their rows into
legacy lines (:func:`aqbench.sources.archive.convert_rows`, as the local fetch does), cuts
them into objects of about ``object_size`` and stages each one exactly as local staging
does (:func:`aqbench.storage.stage.stage_one`: the manifest entry and the reference partial
from the bytes before upload, by the DuckDB reference; then upload and read-back against
its CRC32C).

Idempotent through the manifest: each call leaves its part of the manifest in the bucket
(``<prefix>_staging/gNNNNN.json`` and the reference partials beside it as ``.parquet``),
tagged with a hash of the group's files and settings. A rerun invokes only the groups
without a valid part; a part whose objects are no longer in the bucket as staged is redone.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from aqbench.errors import DataError
from aqbench.storage import Store, StoreSpec
from aqbench.storage.stage import Manifest, StagedObject, stage_one

log = logging.getLogger(__name__)

PARTS = "_staging/"
"""Where, under the prefix, each call leaves its part of the manifest."""
FORMAT = 1
"""Part of every group's tag: a change in how objects are cut or named redoes every group."""
FETCH_THREADS = 16
"""Archive files one call downloads at once (each is a few kB: latency, not bandwidth, bounds it)."""


@dataclass(frozen=True)
class ArchiveFile:
    """One location-day file of the archive, as listed."""

    key: str
    size: int
    etag: str
    provider: str
    location: int
    day: str


def archive_client(spec: StoreSpec) -> Any:
    """A boto3 client of the archive: the public bucket with unsigned requests, or (offline) a bucket of
    the local S3 server playing it."""
    if spec.kind == "public":
        from aqbench.sources.public_s3 import anonymous_client

        return anonymous_client(spec.settings.get("region", "us-east-1"))
    return spec.open().client


def list_files(
    client: Any, bucket: str, country: str, start: date, end: date, max_locations: int, progress: bool = True
) -> list[ArchiveFile]:
    """Every archive file of ``country``'s first ``max_locations`` locations from ``start`` to ``end``,
    in time order (day, then location), as the legacy fetches were."""
    from botocore.exceptions import BotoCoreError, ClientError

    from aqbench.sources.archive import location_prefixes

    try:
        locations = location_prefixes(client, country, bucket)[:max_locations]
    except (BotoCoreError, ClientError) as exc:
        raise DataError(
            f"cannot list s3://{bucket} ({exc}); this source needs the internet: offline, use data.source: synthetic"
        ) from exc
    if not locations:
        raise DataError(f"no locations for country {country!r} in s3://{bucket}: check the code")
    months = sorted({(d.year, d.month) for d in (start + timedelta(days=i) for i in range((end - start).days + 1))})
    first, last = f"{start:%Y%m%d}", f"{end:%Y%m%d}"

    def month_files(job: tuple[tuple[str, str, int], tuple[int, int]]) -> list[ArchiveFile]:
        (provider, prefix, loc), (year, month) = job
        found = []
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=f"{prefix}year={year:04d}/month={month:02d}/"
        )
        for page in pages:
            for obj in page.get("Contents", []):
                name = obj["Key"].rsplit("/", 1)[-1]  # location-ID-YYYYMMDD.csv.gz
                day = name.removesuffix(".csv.gz").rsplit("-", 1)[-1]
                if name.endswith(".csv.gz") and first <= day <= last:
                    found.append(ArchiveFile(obj["Key"], int(obj["Size"]), obj["ETag"].strip('"'), provider, loc, day))
        return found

    jobs = [(loc, month) for loc in locations for month in months]
    files: list[ArchiveFile] = []
    with ThreadPoolExecutor(max_workers=16) as pool:
        listed = pool.map(month_files, jobs)
        for found in tqdm(listed, total=len(jobs), unit="month", desc="list archive", disable=not progress):
            files += found
    return sorted(files, key=lambda f: (f.day, f.location, f.key))


def group_tag(files: list[ArchiveFile], country: str, object_size: int, prefix: str) -> str:
    """What a group's objects are made of: equal tags, equal objects."""
    text = json.dumps([FORMAT, country.upper(), object_size, prefix, [(f.key, f.etag) for f in files]])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _part_keys(prefix: str, group: int) -> tuple[str, str]:
    base = f"{prefix}{PARTS}g{group:05d}"
    return base + ".json", base + ".parquet"


def object_key(prefix: str, group: int, index: int) -> str:
    return f"{prefix}g{group:05d}-{index:03d}.ndjson"


def stage_group(task: dict[str, Any]) -> dict[str, Any]:
    """One Lithops call: fetch the group's archive files, stage their objects, leave the group's part."""
    from aqbench.batching import ObjectFolder
    from aqbench.sources.archive import convert_rows

    archive = archive_client(StoreSpec.from_json(task["archive"]))
    store = StoreSpec.from_json(task["store"]).open()
    files = [ArchiveFile(**f) for f in task["files"]]
    prefix, group = task["prefix"], task["group"]

    def fetch(f: ArchiveFile) -> bytes:
        return archive.get_object(Bucket=task["archive_bucket"], Key=f.key)["Body"].read()

    entries: list[StagedObject] = []
    partials: list[pa.Table] = []
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=FETCH_THREADS) as pool:
        out = Path(tmp) / "objects"
        folder = ObjectFolder(out, task["object_size"])
        try:
            with folder:
                for f, body in zip(files, pool.map(fetch, files), strict=True):  # in order, fetched ahead
                    for line in convert_rows(body, task["country"], f.provider):
                        folder.add(line)
        except DataError:
            if folder.lines:
                raise
            # files with a header and no rows: the group stages no object, and says so in its part
        for i, path in enumerate(sorted(out.iterdir()) if out.exists() else []):
            entry, partial, _ = stage_one(store, path, object_key(prefix, group, i))
            entries.append(entry)
            partials.append(partial)
        part_json, part_parquet = _part_keys(prefix, group)
        table = Path(tmp) / "part.parquet"
        if partials:
            pq.write_table(pa.concat_tables(partials), table, compression="zstd")
            store.put(part_parquet, table, {})
        record = Path(tmp) / "part.json"
        part = {"tag": task["tag"], "files": len(files), "lines": folder.lines, "objects": [asdict(e) for e in entries]}
        record.write_text(json.dumps(part, ensure_ascii=False))
        store.put(part_json, record, {})  # last: a part is only there once its objects are
    return {"group": group, "objects": len(entries), "lines": folder.lines, "bytes": sum(e.bytes for e in entries)}


def _valid_part(store: Store, prefix: str, group: int, tag: str) -> list[StagedObject] | None:
    """The group's staged objects, when its part is there, has the tag and every object is in the bucket
    as staged (same size and sha256); else None (the group is staged again)."""
    part_json, part_parquet = _part_keys(prefix, group)
    if store.head(part_json) is None:
        return None
    part = json.loads(bytes(store.get(part_json)))
    if part.get("tag") != tag:
        return None
    entries = [StagedObject(**o) for o in part["objects"]]
    if entries and store.head(part_parquet) is None:
        return None
    for e in entries:
        info = store.head(e.key)
        if info is None or info.size != e.bytes or info.metadata.get("sha256") != e.sha256:
            return None
    return entries


@dataclass(frozen=True)
class ArchiveStaging:
    """Where the archive is and how its files become objects."""

    archive: StoreSpec
    country: str
    prefix: str
    object_size: int
    files_per_call: int


def _billed(future: Any, executor_config: dict[str, Any]) -> dict[str, Any]:
    """A staging call as the cost model reads it (no duration: it never reported, charged at its timeout)."""
    stats = getattr(future, "stats", {}) or {}
    start, end = stats.get("worker_start_tstamp"), stats.get("worker_end_tstamp")  # the worker's, start-up included
    backend = executor_config.get(executor_config["lithops"]["backend"], {})
    failed = bool(getattr(future, "error", False)) or not getattr(future, "done", False)
    return {
        "phase": "stage",
        "memory_mb": int(backend.get("runtime_memory") or 2048),
        "duration_s": end - start if start is not None and end is not None else None,
        "status": "error" if failed else "success",
        "objects": 0,  # the archive is public: its GETs are not the caller's
    }


def stage_archive(
    files: list[ArchiveFile],
    store_spec: StoreSpec,
    how: ArchiveStaging,
    executor_config: dict[str, Any],
    progress: bool = True,
    calls: list[dict[str, Any]] | None = None,
) -> tuple[Manifest, pa.Table, dict[str, int]]:
    """Stage ``files`` with Lithops calls, skipping groups already staged; the manifest, the reference
    partials of every object, and what was done. ``calls``, where given, gets a row per staging
    call (its duration, memory and outcome: what the budget's ledger charges), even if one failed."""
    if not files:
        raise DataError("the archive has no files for these locations and dates: widen the period")
    store = store_spec.open()
    store.ensure_bucket()
    groups = [files[i : i + how.files_per_call] for i in range(0, len(files), how.files_per_call)]
    tags = [group_tag(g, how.country, how.object_size, how.prefix) for g in groups]
    todo = [i for i, tag in enumerate(tags) if _valid_part(store, how.prefix, i, tag) is None]
    log.info("%d archive files in %d groups: %d to stage, %d already staged", len(files), len(groups), len(todo),
             len(groups) - len(todo))  # fmt: skip
    if todo:
        import lithops

        tasks = [
            {
                "group": i,
                "tag": tags[i],
                "files": [asdict(f) for f in groups[i]],
                "archive": how.archive.to_json(),
                "archive_bucket": how.archive.bucket,
                "store": store_spec.to_json(),
                "prefix": how.prefix,
                "country": how.country.upper(),
                "object_size": how.object_size,
            }
            for i in todo
        ]
        fexec = lithops.FunctionExecutor(config=executor_config)
        futures: list[Any] = []
        try:
            futures = fexec.map(stage_group, [{"task": t} for t in tasks])
            fexec.get_result(futures, show_progressbar=progress)  # a failed call raises its error here
        finally:
            if calls is not None:
                calls += [_billed(f, executor_config) for f in futures]
            try:
                fexec.clean(clean_cloudobjects=True, clean_fn=True)
            except Exception as exc:  # best effort: the outcome is known
                log.debug("lithops clean failed: %s", exc)
    objects: list[StagedObject] = []
    partials: list[pa.Table] = []
    for i, tag in enumerate(tags):
        entries = _valid_part(store, how.prefix, i, tag)
        if entries is None:
            raise DataError(f"group {i}'s staging call left no valid part in the bucket: rerun the stage")
        objects += entries
        if entries:
            partials.append(pq.read_table(io.BytesIO(bytes(store.get(_part_keys(how.prefix, i)[1])))))
    if not objects:
        raise DataError("the archive files of these locations and dates hold no rows: widen the period")
    manifest = Manifest(store.kind, store.bucket, how.prefix, tuple(objects))
    stats = {"files": len(files), "groups": len(groups), "invoked": len(todo), "objects": len(objects)}
    return manifest, pa.concat_tables(partials), stats
