"""Staging: put the dataset into the profile's bucket, verified, and write its manifest.

The manifest (key, bytes, sha256, CRC32C, and the account of its lines per object) is what
every later step trusts: the engines read the objects it lists and check each one's length
and CRC32C as it streams in, and every run's line account must equal its objects' sum.
Staging also computes, from the *source* files before upload, a reference partial per
object (the DuckDB reference on that file alone): the reference of any subset of objects
is the merge of theirs, so no run is ever checked against the store it read.
Staging is idempotent: an object already in the bucket with the same sha256 (kept in the
object's metadata, set only after a verified upload) is not uploaded again, so a stage
that was interrupted half-way is completed, not duplicated.
"""

from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from aqbench.atomic import atomic_path
from aqbench.errors import DataError
from aqbench.inputs import find_data_files
from aqbench.kernels.reference import aggregate_files
from aqbench.openaq import RecordCounts
from aqbench.storage import ChecksumMismatch, Expected, Store, checksum

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StagedObject:
    key: str
    bytes: int
    records: int
    sha256: str
    crc32c: int
    records_valid: int
    rejected_by_reason: dict[str, int]

    @property
    def expected(self) -> Expected:
        """What a reader must find in the store for this object."""
        return Expected(self.key, self.bytes, self.crc32c)


@dataclass(frozen=True)
class Manifest:
    storage: str
    bucket: str
    prefix: str
    objects: tuple[StagedObject, ...]

    @property
    def records(self) -> int:
        return sum(o.records for o in self.objects)

    @property
    def bytes(self) -> int:
        return sum(o.bytes for o in self.objects)

    def to_dict(self) -> dict:
        return {
            "storage": self.storage,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "objects_count": len(self.objects),
            "bytes": self.bytes,
            "records": self.records,
            "objects": [asdict(o) for o in self.objects],
        }

    def write(self, path: str | Path) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    def counts(self, keys: list[str]) -> RecordCounts:
        """The line account of the given objects (read = valid + rejected by reason)."""
        wanted, total = set(keys), RecordCounts()
        for o in self.objects:
            if o.key in wanted:
                total = total.merge(RecordCounts(o.records_valid, dict(o.rejected_by_reason)))
        return total

    @classmethod
    def read(cls, path: str | Path) -> Manifest:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        try:
            objects = tuple(StagedObject(**o) for o in data["objects"])
        except TypeError as exc:
            raise DataError(f"{path}: a manifest of an older aqbench ({exc}); stage the data again") from exc
        return cls(data["storage"], data["bucket"], data["prefix"], objects)


REFERENCE_OBJECT = "object"
"""The column of the reference partials naming the object each row comes from."""


def describe(path: Path, key: str) -> tuple[StagedObject, pa.Table]:
    """The object's manifest entry and its reference partial, both from the source file."""
    body = path.read_bytes()
    reference = aggregate_files([path])
    counts = reference.counts
    entry = StagedObject(
        key,
        len(body),
        counts.records_read,
        hashlib.sha256(body).hexdigest(),
        checksum(body),
        counts.records_valid,
        dict(sorted(counts.rejected_by_reason.items())),
    )
    partial = reference.aggregates.drop_columns(["average"])
    return entry, partial.append_column(REFERENCE_OBJECT, pa.array([key] * partial.num_rows, pa.string()))


def stage_one(store: Store, path: Path, key: str) -> tuple[StagedObject, pa.Table, bool]:
    """Stage one file as ``key`` (unless a verified copy is there): its entry, its reference partial,
    and whether it was uploaded."""
    local, partial = describe(path, key)
    remote = store.head(key)
    if remote is not None and remote.size == local.bytes and remote.metadata.get("sha256") == local.sha256:
        return local, partial, False
    store.put(key, path, {"sha256": local.sha256, "records": str(local.records)})
    try:
        store.get(key, local.expected)
    except ChecksumMismatch as exc:
        raise DataError(f"{exc} (read back from {store.kind} after uploading {path}); rerun the stage") from exc
    return local, partial, True


def stage(
    data: list[str | Path], store: Store, prefix: str, jobs: int = 4, progress: bool = True
) -> tuple[Manifest, pa.Table]:
    """Upload every data file under ``prefix`` (skipping verified copies); the manifest and the
    reference partials of every object (computed from the source files)."""
    files = find_data_files(data)
    roots = [Path(d) for d in data]

    def key_of(path: Path) -> str:
        for root in roots:
            if root.is_dir() and path.is_relative_to(root):
                return prefix + path.relative_to(root).as_posix()
        return prefix + path.name

    keys = [key_of(p) for p in files]
    if len(set(keys)) != len(keys):
        raise DataError("two input files would get the same object key; stage them from one folder")
    store.ensure_bucket()
    uploaded = 0
    results: dict[str, StagedObject] = {}
    partials: list[pa.Table] = []
    with (
        ThreadPoolExecutor(max_workers=jobs) as pool,
        tqdm(total=len(files), unit="obj", desc=f"stage → {store.kind}", disable=not progress) as bar,
    ):
        futures = [pool.submit(stage_one, store, p, k) for p, k in zip(files, keys, strict=True)]
        for future in futures:
            obj, partial, sent = future.result()
            results[obj.key] = obj
            partials.append(partial)
            uploaded += sent
            bar.update()
    log.info(
        "staged %d objects (%d uploaded, %d already present) into %s/%s",
        len(files),
        uploaded,
        len(files) - uploaded,
        store.bucket,
        prefix,
    )
    manifest = Manifest(store.kind, store.bucket, prefix, tuple(results[k] for k in keys))
    return manifest, pa.concat_tables(partials)


def write_reference(partials: pa.Table, path: str | Path) -> None:
    """The reference partials beside the manifest (Parquet, atomically)."""
    with atomic_path(path) as tmp:
        pq.write_table(partials, tmp, compression="zstd")


def subset_reference(partials: pa.Table, keys: list[str]) -> pa.Table:
    """The reference aggregate of the objects ``keys``: the merge of their partials.

    Count and sum add up, maximum is the maximum; sums merge in another order than one
    query over all lines would, which the comparison's 1e-9 relative tolerance allows.
    """
    from aqbench.aggregates import sort_aggregates
    from aqbench.openaq import KEY_COLUMNS

    chosen = partials.filter(pc.is_in(partials.column(REFERENCE_OBJECT), pa.array(keys, pa.string())))
    merged = chosen.group_by(list(KEY_COLUMNS), use_threads=False).aggregate(
        [("count", "sum"), ("sum", "sum"), ("max", "max")]
    )
    merged = merged.rename_columns([*KEY_COLUMNS, "count", "sum", "max"])
    average = pc.divide(merged.column("sum"), pc.cast(merged.column("count"), pa.float64()))
    return sort_aggregates(merged.append_column("average", average))


STUDY_FOLDER = "study/"
"""Where, under the staging prefix, the study-layout copies of the first objects go."""


def first_objects(manifest: Manifest, partials: pa.Table, objects: int) -> tuple[Manifest, pa.Table]:
    """The first ``objects`` staged objects as they are (the legacy layout) with their reference
    partials: the objects the study-layout copies were made from, so that this build's kernels can
    be timed on the same records as the study's code."""
    chosen = manifest.objects[:objects]
    keys = pa.array([o.key for o in chosen], pa.string())
    subset = Manifest(manifest.storage, manifest.bucket, manifest.prefix, tuple(chosen))
    return subset, partials.filter(pc.is_in(partials.column(REFERENCE_OBJECT), keys))


def stage_study_layout(manifest: Manifest, partials: pa.Table, store: Store, objects: int) -> tuple[Manifest, pa.Table]:
    """The first ``objects`` staged objects again, in the study's layout (one JSON document each,
    ``DataFrame.to_json()`` of its records), under ``<prefix>study/``: read from the bucket as
    every engine reads (checked), converted, uploaded and read back. Each copy's line account and
    reference partial are its source object's: the same records, so the same reference."""
    import tempfile

    from aqbench.kernels.study import to_study_layout

    entries: list[StagedObject] = []
    tables: list[pa.Table] = []
    for source in tqdm(manifest.objects[:objects], unit="obj", desc="study layout"):
        body = bytes(store.get(source.key, source.expected))
        if source.key.endswith(".gz"):
            import gzip

            body = gzip.decompress(body)
        doc = to_study_layout(body)
        stem = source.key.removeprefix(manifest.prefix).split("/")[-1].split(".")[0]
        key = f"{manifest.prefix}{STUDY_FOLDER}{stem}.json"
        entry = StagedObject(key, len(doc), source.records, hashlib.sha256(doc).hexdigest(), checksum(doc),
                             source.records_valid, dict(source.rejected_by_reason))  # fmt: skip
        remote = store.head(key)
        if remote is None or remote.size != entry.bytes or remote.metadata.get("sha256") != entry.sha256:
            with tempfile.TemporaryDirectory(prefix="aqbench-study-") as tmp:
                path = Path(tmp) / "doc.json"
                path.write_bytes(doc)
                store.put(key, path, {"sha256": entry.sha256, "records": str(entry.records)})
            try:
                store.get(key, entry.expected)
            except ChecksumMismatch as exc:
                raise DataError(f"{exc} (read back after uploading the study layout of {source.key})") from exc
        entries.append(entry)
        mine = partials.filter(pc.equal(partials.column(REFERENCE_OBJECT), source.key))
        index = mine.column_names.index(REFERENCE_OBJECT)
        tables.append(mine.set_column(index, REFERENCE_OBJECT, pa.array([key] * mine.num_rows, pa.string())))
    if not entries:
        raise DataError("no staged object to copy into the study's layout: stage the data first")
    study = Manifest(manifest.storage, manifest.bucket, manifest.prefix + STUDY_FOLDER, tuple(entries))
    return study, pa.concat_tables(tables)
