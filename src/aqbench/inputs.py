"""Finding data files and reading them as raw lines, the one place every reader starts.

Lines are cut at their line-ending bytes with numpy into a binary Arrow column, never
decoded, so that invalid UTF-8, control bytes and malformed JSON reach the validation
rules instead of aborting the read. (Arrow's CSV reader, used before as the splitter,
decoded rows it could not split and raised on binary input.)
"""

from __future__ import annotations

import gzip
import io
import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from aqbench.errors import DataError
from aqbench.openaq import DATA_SUFFIXES

log = logging.getLogger(__name__)

LINE_SCHEMA = pa.schema([("line", pa.large_binary())])

BLOCK_SIZE = 16 << 20
"""Bytes read at a time; a longer line is carried over into the next block."""


def is_data_file(path: Path) -> bool:
    return path.name.endswith(DATA_SUFFIXES)


def find_data_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into a sorted list of data files; refuse what would read nothing."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and is_data_file(p))
            if not inside:
                raise DataError(
                    f"{path}: folder holds no data files (expected names ending in {', '.join(DATA_SUFFIXES)})"
                )
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        else:
            raise DataError(f"{path}: no such file or folder")
    if not found:
        raise DataError("no input given: name at least one .ndjson/.ndjson.gz file or folder")
    return found


@dataclass(frozen=True)
class FetchedObject:
    """An object read through a store rather than from a file: a name and how to get its bytes."""

    name: str
    fetch: Callable[[], bytes]

    def __str__(self) -> str:
        return self.name


Source = Path | FetchedObject


@dataclass
class LineReader:
    """Streams the lines of data files as Arrow batches of raw bytes, whatever the bytes are.

    Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` and may be of any length; empty lines are
    dropped (they count for nothing). The bytes are never decoded here: invalid UTF-8, NUL
    and binary junk reach the rules as lines, each kept or rejected with its reason. The
    line array points into the block read (no copy per line).
    """

    files: list[Source]
    block_size: int = BLOCK_SIZE
    error: DataError | None = field(default=None, init=False)
    """The read error, kept because a consumer such as DuckDB re-wraps exceptions it pulls through."""

    def batches(self) -> Iterator[pa.RecordBatch]:
        for path in self.files:
            try:
                yield from self._file_batches(path)
            except DataError as exc:
                self.error = exc
                raise

    def _blocks(self, path: Source) -> Iterator[bytes]:
        try:
            with _open_stream(path) as stream:
                while block := stream.read(self.block_size):
                    yield block
        except (OSError, EOFError, zlib.error) as exc:
            hint = "is the gzip file truncated or corrupt?"
            raise DataError(f"{path}: cannot read ({_first_line(exc)}); {hint}") from exc

    def _file_batches(self, path: Source) -> Iterator[pa.RecordBatch]:
        carry = b""
        for block in self._blocks(path):
            data = carry + block if carry else block
            ends = _line_ends(data)
            if len(ends) == 0:  # no line end yet: a line longer than the block goes on
                carry = data
                continue
            last = int(ends[-1]) + 1
            yield _lines_batch(data, ends)
            carry = data[last:]
        if carry:  # the last line, without its line end
            last_line = carry + b"\n"
            yield _lines_batch(last_line, _line_ends(last_line))

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(LINE_SCHEMA, self.batches())


def _open_stream(source: Source):
    """A binary stream of the source's bytes, decompressed when its name ends in .gz."""
    raw = open(source, "rb") if isinstance(source, Path) else io.BytesIO(source.fetch())  # noqa: SIM115
    return gzip.GzipFile(fileobj=raw, mode="rb") if str(source).endswith(".gz") else raw


def _line_ends(data: bytes) -> np.ndarray:
    """Offsets of every line-ending byte (``\\n`` or ``\\r``)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    return np.flatnonzero((buf == 10) | (buf == 13))


def _lines_batch(data: bytes, ends: np.ndarray) -> pa.RecordBatch:
    """The lines of ``data`` up to its last line end, each with its ending byte, as views into ``data``.

    Keeping the ending byte makes the lines contiguous, so the array is built from the
    offsets alone (no copy); the query trims it, and an empty line (``\\r\\n``'s second
    half included) is then blank and counts for nothing.
    """
    offsets = np.concatenate([[0], ends + 1]).astype(np.int64)
    lines = pa.Array.from_buffers(pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return pa.RecordBatch.from_arrays([lines], schema=LINE_SCHEMA)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
