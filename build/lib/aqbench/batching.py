"""Cut a stream of lines into objects of about N bytes, written atomically into a new folder.

Used by every source that is not generated (legacy import, archive fetch), so that all of
them end as the same ``df00000.ndjson, ...`` objects the study staged.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import TracebackType

from aqbench.errors import ConfigError, DataError


def object_name(index: int) -> str:
    return f"df{index:05d}.ndjson"


class ObjectFolder:
    """``with ObjectFolder(out, limit) as folder: folder.add(line)``; the folder appears whole or not at all."""

    def __init__(self, out: str | Path, limit: int):
        self.out = Path(out)
        self.limit = limit
        self.objects = 0
        self.lines = 0
        self._buffer = bytearray()
        self._tmp = self.out.with_name(f".{self.out.name}.tmp-{os.getpid()}")

    def __enter__(self) -> ObjectFolder:
        if self.out.exists() and any(self.out.iterdir()):
            raise ConfigError(f"{self.out} exists and is not empty: remove it or choose another --out")
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp.mkdir(parents=True)
        return self

    def add(self, line: bytes) -> None:
        self._buffer += line if line.endswith(b"\n") else line + b"\n"
        self.lines += 1
        if len(self._buffer) >= self.limit:
            self._flush()

    def _flush(self) -> None:
        (self._tmp / object_name(self.objects)).write_bytes(self._buffer)
        self.objects += 1
        self._buffer.clear()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is None:
                if self._buffer:
                    self._flush()
                if self.objects == 0:
                    raise DataError("the source holds no lines: nothing to write")
                if self.out.exists():
                    self.out.rmdir()
                self.out.parent.mkdir(parents=True, exist_ok=True)
                self._tmp.rename(self.out)
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)
