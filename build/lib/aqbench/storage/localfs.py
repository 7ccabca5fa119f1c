"""Lithops' localhost storage: objects as files under ``<lithops tmp>/lithops-<user>/<bucket>/``.

No server and no network: the store to use when measuring the engines without a
storage layer in the way.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aqbench.storage import Expected, ObjectInfo


def lithops_root(lithops_tmp: Path) -> Path:
    """Where Lithops' localhost storage keeps buckets when TMPDIR is ``lithops_tmp``."""
    return Path(lithops_tmp) / f"lithops-{os.getenv('USER', 'root')}"


class LocalStore:
    kind = "localhost"

    def __init__(self, lithops_tmp: Path, bucket: str):
        self.bucket = bucket
        self.root = lithops_root(lithops_tmp) / bucket

    def _meta(self, key: str) -> Path:
        return self.root.parent / f".{self.bucket}-meta" / (key + ".json")

    def ensure_bucket(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, key: str, path: Path, metadata: dict[str, str]) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
        meta = self._meta(key)
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(json.dumps(metadata))

    def get(self, key: str, expect: Expected | None = None) -> bytearray:
        from aqbench.storage import read_exactly

        with open(self.root / key, "rb") as fh:
            return read_exactly(fh, None, expect)

    def head(self, key: str) -> ObjectInfo | None:
        path = self.root / key
        if not path.is_file():
            return None
        meta = self._meta(key)
        metadata = json.loads(meta.read_text()) if meta.exists() else {}
        return ObjectInfo(key, path.stat().st_size, metadata)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        if not self.root.exists():
            return
        for path in sorted(self.root.rglob("*")):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix) and not path.name.endswith(".part"):
                yield ObjectInfo(key, path.stat().st_size, {})

    def lithops_storage_config(self) -> dict[str, Any]:
        return {"backend": "localhost", "localhost": {"storage_bucket": self.bucket}}

    def fsspec(self) -> tuple[str, dict[str, Any]]:
        return "file", {}
