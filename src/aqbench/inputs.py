"""Finding data files and reading them as raw lines, the one place every reader starts.

Lines are read with Arrow's CSV reader configured as a line splitter (no quoting, a
delimiter that cannot occur in valid JSON) into a binary column, so that invalid
UTF-8 and malformed JSON reach the validation rules instead of aborting the read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from aqbench.errors import DataError
from aqbench.openaq import DATA_SUFFIXES

log = logging.getLogger(__name__)

LINE_SCHEMA = pa.schema([("line", pa.binary())])
SEPARATOR = "\x01"
"""A control character: JSON forbids it outside and inside strings, so a line holding it is
invalid JSON whatever else it holds; Arrow reports such a line as a row with too many columns."""

BLOCK_SIZE = 16 << 20
"""Arrow's read block; a single line longer than this cannot be read."""


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


def open_source(source: Source) -> pa.NativeFile | str:
    """What Arrow's reader opens: a file path (compression from its name) or an in-memory stream."""
    if isinstance(source, Path):
        return str(source)
    stream: pa.NativeFile = pa.BufferReader(source.fetch())
    if source.name.endswith(".gz"):
        stream = pa.CompressedInputStream(stream, "gzip")
    return stream


@dataclass
class LineReader:
    """Streams the lines of data files as Arrow batches and counts lines Arrow had to drop.

    A dropped line is one holding the separator byte; it counts as ``invalid_json``.
    """

    files: list[Source]
    dropped_invalid: int = field(default=0, init=False)
    error: DataError | None = field(default=None, init=False)
    """The read error, kept because a consumer such as DuckDB re-wraps exceptions it pulls through."""

    def _on_invalid_row(self, row: object) -> str:
        self.dropped_invalid += 1
        return "skip"

    def batches(self) -> Iterator[pa.RecordBatch]:
        for path in self.files:
            try:
                yield from self._file_batches(path)
            except DataError as exc:
                self.error = exc
                raise

    def _file_batches(self, path: Source) -> Iterator[pa.RecordBatch]:
        read_options = pacsv.ReadOptions(column_names=["line"], block_size=BLOCK_SIZE, use_threads=True)
        parse_options = pacsv.ParseOptions(
            delimiter=SEPARATOR,
            quote_char=False,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=True,
            invalid_row_handler=self._on_invalid_row,
        )
        convert_options = pacsv.ConvertOptions(column_types={"line": pa.binary()})
        try:
            reader = pacsv.open_csv(
                open_source(path),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
            yield from reader
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                log.debug("%s: empty file", path)
                return
            raise DataError(f"{path}: cannot read ({_first_line(exc)})") from exc
        except (OSError, EOFError) as exc:
            hint = "is the gzip file truncated or corrupt?"
            raise DataError(f"{path}: cannot read ({_first_line(exc)}); {hint}") from exc

    def reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(LINE_SCHEMA, self.batches())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
