"""Object stores behind one small interface, picked by profile name.

``s3-local``  the SeaweedFS server this project starts on loopback (the default)
``localhost`` Lithops' localhost storage: files under its temporary folder, no server
``aws``       real Amazon S3, credentials from the standard AWS chain
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aqbench.errors import ConfigError, DataError

KINDS = ("s3-local", "localhost", "aws")


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    metadata: dict[str, str]


class Store(Protocol):
    """What staging, the engines and the verification need from an object store."""

    kind: str
    bucket: str

    def ensure_bucket(self) -> None: ...

    def put(self, key: str, path: Path, metadata: dict[str, str]) -> None: ...

    def get(self, key: str, expect: Expected | None = None) -> bytearray:
        """The whole object in one writable buffer (see :func:`read_exactly`), checked against ``expect``."""
        ...

    def head(self, key: str) -> ObjectInfo | None: ...

    def list(self, prefix: str) -> Iterator[ObjectInfo]: ...

    def lithops_storage_config(self) -> dict[str, Any]:
        """The storage part of a Lithops config dict (backend name and its section)."""
        ...

    def fsspec(self) -> tuple[str, dict[str, Any]]:
        """URL scheme and storage_options for Dask (fsspec) to read the same objects."""
        ...


@dataclass(frozen=True)
class Expected:
    """What a staged object must be, from the manifest: its length and its CRC32C.

    CRC32C (Castagnoli) is one of S3's own object checksums (staging sends each object's with
    it, ``ChecksumCRC32C``, and the server refuses bytes that differ), computed in hardware at
    about 13 GB/s: checking it while an object streams in costs a few percent of a map call, where SHA-256 cost several
    times more (``aqbench bench kernels`` prints both beside the arrow map).
    """

    key: str
    size: int
    crc32c: int


class ChecksumMismatch(DataError):
    """A staged object read back differently from what was staged: the read must not count."""


def checksum(data: bytes | bytearray | memoryview, value: int = 0) -> int:
    """CRC32C of ``data``, continuing from ``value`` (for data read in pieces)."""
    import crc32c

    return crc32c.crc32c(data, value)


def checksum_header(path: Path) -> str:
    """A file's CRC32C as S3's ``x-amz-checksum-crc32c`` carries it: four big-endian bytes in base64."""
    import base64

    crc = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            crc = checksum(block, crc)
    return base64.b64encode(crc.to_bytes(4, "big")).decode("ascii")


def _check_size(expect: Expected, size: int) -> None:
    if size != expect.size:
        raise ChecksumMismatch(f"{expect.key}: {size} bytes in the store, the manifest says {expect.size}")


def _check_crc(expect: Expected, crc: int) -> None:
    if crc != expect.crc32c:
        raise ChecksumMismatch(f"{expect.key}: its CRC32C differs from the manifest's: the staged object changed")


def verify(data: bytes | bytearray, expect: Expected) -> None:
    """Check a whole object already in memory (for readers that cannot hand over a stream)."""
    _check_size(expect, len(data))
    _check_crc(expect, checksum(data))


def read_exactly(stream: Any, size: int | None = None, expect: Expected | None = None) -> bytearray:
    """Read a whole object from a stream into one preallocated, writable buffer.

    Why not ``read()``: the kernels blank malformed lines in place, so handing them a
    ``bytearray`` saves a copy of every object (time, and 25 MB of a small Lambda's
    memory). The buffer is filled with ``readinto``, so the bytes are copied once, from
    the socket or file, and a short or long object is an error, not silent truncation.
    """
    if size is None:
        import os

        size = os.fstat(stream.fileno()).st_size
    if expect is not None:
        _check_size(expect, size)
    buf = bytearray(size)
    view = memoryview(buf)
    got = crc = 0
    while got < size:
        n = stream.readinto(view[got:])
        if not n:
            raise OSError(f"object ended after {got} of {size} bytes")
        if expect is not None:  # each piece as it arrives, while it is in cache: no second pass
            crc = checksum(view[got : got + n], crc)
        got += n
    if stream.read(1):
        raise OSError(f"object is longer than its announced {size} bytes")
    if expect is not None:
        _check_crc(expect, crc)
    return buf


@dataclass(frozen=True)
class StoreSpec:
    """How to open a store, in a form that travels: Dask workers and benches reopen it from this.

    ``settings``: ``state_dir`` (s3-local), ``lithops_tmp`` (localhost), ``region`` and
    ``endpoint`` (aws: an S3-compatible server's endpoint instead of AWS's); absolute paths,
    since a worker may run in another folder. No credentials: those come from the standard AWS
    chain wherever the store is opened.
    """

    def for_workers(self, endpoint: str) -> StoreSpec:
        """The same bucket as workers on other hosts open it: at ``endpoint`` (their view of the
        store, ``dask.store_endpoint``), with credentials from their own standard AWS chain, so no
        secret travels with the tasks and none reaches a log."""
        region = self.settings.get("region") or "us-east-1"
        return StoreSpec("aws", self.bucket, {"region": region, "endpoint": endpoint})

    kind: str
    bucket: str
    settings: dict[str, Any] = field(default_factory=dict)

    def open(self) -> Store:
        return open_store(self.kind, self.bucket, self.settings)

    def to_json(self) -> str:
        return json.dumps([self.kind, self.bucket, self.settings], sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> StoreSpec:
        kind, bucket, settings = json.loads(text)
        return cls(kind, bucket, settings)


def open_store(kind: str, bucket: str, settings: dict[str, Any]) -> Store:
    """Open the store of a profile; ``settings`` is the profile's ``storage`` section."""
    if kind == "s3-local":
        from aqbench.storage.s3 import S3Store
        from aqbench.storage.server import LocalS3Server

        server = LocalS3Server(Path(settings["state_dir"]))
        return S3Store.for_local_server(server, bucket)
    if kind == "aws":
        from aqbench.storage.s3 import S3Store

        # ``endpoint``: an S3-compatible server (a Dask cluster's workers' view of the store)
        return S3Store.for_aws(bucket, region=settings.get("region", "us-east-1"), endpoint=settings.get("endpoint"))
    if kind == "localhost":
        from aqbench.storage.localfs import LocalStore

        return LocalStore(Path(settings["lithops_tmp"]), bucket)
    raise ConfigError(f"unknown storage {kind!r}: choose one of {', '.join(KINDS)}")
