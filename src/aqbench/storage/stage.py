"""Staging: put the dataset into the profile's bucket, verified, and write its manifest.

The manifest (key, bytes, records, sha256 per object) is what every later step trusts:
the engines read the objects it lists, and every run's record count must equal its total.
Staging is idempotent: an object already in the bucket with the same sha256 (kept in the
object's metadata, set only after a verified upload) is not uploaded again, so a stage
that was interrupted half-way is completed, not duplicated.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from aqbench.atomic import atomic_path
from aqbench.errors import DataError
from aqbench.inputs import find_data_files
from aqbench.storage import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StagedObject:
    key: str
    bytes: int
    records: int
    sha256: str


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

    @classmethod
    def read(cls, path: str | Path) -> Manifest:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["storage"], data["bucket"], data["prefix"], tuple(StagedObject(**o) for o in data["objects"]))


def count_records(body: bytes, compressed: bool) -> int:
    """Non-blank lines, split as every reader splits them (``\\n``, ``\\r\\n``, ``\\r``)."""
    if compressed:
        body = gzip.decompress(body)
    return sum(1 for line in body.splitlines() if line.strip(b" \t"))


def describe(path: Path, key: str) -> StagedObject:
    body = path.read_bytes()
    try:
        records = count_records(body, path.name.endswith(".gz"))
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({exc}); is the gzip file truncated or corrupt?") from exc
    return StagedObject(key, len(body), records, hashlib.sha256(body).hexdigest())


def _stage_one(store: Store, path: Path, key: str) -> tuple[StagedObject, bool]:
    local = describe(path, key)
    remote = store.head(key)
    if remote is not None and remote.size == local.bytes and remote.metadata.get("sha256") == local.sha256:
        return local, False
    store.put(key, path, {"sha256": local.sha256, "records": str(local.records)})
    digest = hashlib.sha256(store.get(key)).hexdigest()
    if digest != local.sha256:
        raise DataError(
            f"{key}: the object read back from {store.kind} differs from {path} "
            f"(sha256 {digest[:12]}… != {local.sha256[:12]}…); rerun the stage"
        )
    return local, True


def stage(data: list[str | Path], store: Store, prefix: str, jobs: int = 4, progress: bool = True) -> Manifest:
    """Upload every data file under ``prefix`` (skipping verified copies) and return the manifest."""
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
    with (
        ThreadPoolExecutor(max_workers=jobs) as pool,
        tqdm(total=len(files), unit="obj", desc=f"stage → {store.kind}", disable=not progress) as bar,
    ):
        futures = [pool.submit(_stage_one, store, p, k) for p, k in zip(files, keys, strict=True)]
        for future in futures:
            obj, sent = future.result()
            results[obj.key] = obj
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
    return Manifest(store.kind, store.bucket, prefix, tuple(results[k] for k in keys))
