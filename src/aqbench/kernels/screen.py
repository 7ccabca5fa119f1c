"""Byte-level screens over one object's buffer, shared by the kernels that parse it in bulk.

A bulk JSON reader (Arrow's, DuckDB's) reads clean lines fast but either refuses a whole block
for one bad line (Arrow) or accepts what the specification rejects (DuckDB). These screens find,
in a few vectorised passes, the few lines a bulk reader must not be trusted with; the kernel
judges those one by one by :func:`aqbench.openaq.parse_line` and blanks them (spaces, which
every reader skips uncounted), so every byte keeps its offset.
"""

from __future__ import annotations

import functools
import gzip
import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from aqbench.openaq import MAX_DEPTH

OPEN, CLOSE, NEWLINE = ord("{"), ord("}"), ord("\n")
SCREEN_SLICE = 4 << 20
"""Bytes screened for newlines at a time (4 MB measured fastest of 64 KB-12 MB on 2 cores)."""
UTF8_ERROR_INDEX = re.compile(r"string index (\d+)")


def newlines_in(buf: np.ndarray, first: int) -> np.ndarray:
    return np.flatnonzero(buf == NEWLINE) + first


def newlines(buf: np.ndarray, threads: bool) -> np.ndarray:
    """Offsets of every newline byte: numpy on a few large slices, on every core if allowed.

    Finding them is the one pass over all bytes besides Arrow's own, so it runs on the
    same cores Arrow's parse will use (numpy releases the GIL); slices also keep the
    temporary mask a fraction of the object's size.
    """
    step = SCREEN_SLICE
    firsts = range(0, len(buf), step)
    if threads and len(firsts) > 1:
        found = list(pool().map(lambda first: newlines_in(buf[first : first + step], first), firsts))
    else:
        found = [newlines_in(buf[first : first + step], first) for first in firsts]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


@functools.cache
def pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=pa.cpu_count(), thread_name_prefix="aqbench-screen")


def suspicious_lines(body: bytes | bytearray, threads: bool = True) -> tuple[list[tuple[int, int]], np.ndarray]:
    """(start, end) of every line that does not start with ``{`` and end with ``}`` (blank ones
    too), and the offsets of all newlines.

    Found from the few newlines whose neighbours are not ``}`` and ``{``: one vectorised
    pass over the bytes, then work only where something is wrong.
    """
    buf = np.frombuffer(body, dtype=np.uint8)
    if len(buf) == 0:
        return [], np.zeros(0, dtype=np.int64)
    nl = newlines(buf, threads)
    inner = nl[nl > 0]
    bad_end = inner[buf[inner - 1] != CLOSE]  # newline ending a suspicious line
    before = nl[nl < len(buf) - 1]
    bad_start = before[buf[before + 1] != OPEN]  # newline before a suspicious line
    lines = set()
    for end in bad_end:
        lines.add(body.rfind(b"\n", 0, end) + 1)
    for end in bad_start:
        lines.add(end + 1)
    if buf[0] != OPEN:
        lines.add(0)
    if buf[-1] != NEWLINE and buf[-1] != CLOSE:
        lines.add(body.rfind(b"\n") + 1)
    spans = []
    for start in sorted(lines):
        end = body.find(b"\n", start)
        spans.append((start, len(body) if end < 0 else end))
    return spans, nl


def utf8_valid(data: bytes | bytearray | memoryview, offsets: np.ndarray) -> int | None:
    """Arrow's (SIMD) UTF-8 check of the strings ``data[offsets[i]:offsets[i+1]]``: the first bad one's index."""
    array = pa.Array.from_buffers(pa.large_utf8(), len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    try:
        array.validate(full=True)
    except pa.ArrowInvalid as exc:
        found = UTF8_ERROR_INDEX.search(str(exc))
        return int(found.group(1)) if found else 0
    return None


def invalid_utf8_lines(body: bytes | bytearray, nl: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of every line that is not valid UTF-8, in any field.

    Arrow's JSON reader checks only the fields it extracts, and the specification rejects a
    line with invalid UTF-8 anywhere. One check of the whole object (about 10 GB/s) finds
    nothing in clean data; only when it fails are the lines checked, resuming after each bad one.
    """
    size = len(body)
    if utf8_valid(body, np.array([0, size], dtype=np.int64)) is None:
        return []
    bounds = np.concatenate([[0], nl + 1, [size]]).astype(np.int64)
    bounds = bounds[np.concatenate([[True], bounds[1:] > bounds[:-1]])]  # no empty tail line
    spans = []
    first = 0
    while first < len(bounds) - 1:
        bad = utf8_valid(body, bounds[first:])
        if bad is None:
            break
        line = first + bad
        start, end = int(bounds[line]), int(bounds[line + 1])
        spans.append((start, end - 1 if end > start and body[end - 1] == NEWLINE else end))
        first = line + 1
    return spans


LONG_LINE = 2 * MAX_DEPTH
"""Lines longer than this go to the specification: only they can nest deeper than its
:data:`~aqbench.openaq.MAX_DEPTH` (an opening and a closing byte per level), which no bulk reader
checks. OpenAQ lines are about 400 bytes."""


def spans_of(lines: np.ndarray, nl: np.ndarray, size: int) -> list[tuple[int, int]]:
    """(start, end) of the lines with these indices (line i ends at newline i)."""
    spans = []
    for i in lines.tolist():
        start = int(nl[i - 1]) + 1 if i > 0 else 0
        spans.append((start, int(nl[i]) if i < len(nl) else size))
    return spans


def long_lines(nl: np.ndarray, size: int) -> list[tuple[int, int]]:
    """(start, end) of every line longer than :data:`LONG_LINE` bytes."""
    lengths = np.diff(np.concatenate([[-1], nl, [size]])) - 1
    return spans_of(np.flatnonzero(lengths > LONG_LINE), nl, size)


def blank(body: bytes | bytearray, spans: list[tuple[int, int]]) -> bytes | bytearray:
    """The body with the given lines overwritten by spaces, which Arrow's reader skips.

    Blanking keeps every other byte where it is, so the rest is parsed in one pass with no
    re-assembly. A ``bytearray`` is blanked in place (the caller hands over its buffer);
    ``bytes`` are copied once, and only when there is something to blank.
    """
    if not spans:
        return body
    out = body if isinstance(body, bytearray) else bytearray(body)
    for start, end in spans:
        out[start:end] = b" " * (end - start)
    return out


def line_starts(buf: np.ndarray, newlines: np.ndarray) -> np.ndarray:
    """Offsets of the lines Arrow reads in ``buf``: those starting with ``{``.

    Blank and blanked lines start with a newline or a space, and Arrow skips them uncounted.
    """
    starts = np.concatenate([[0], newlines + 1])
    starts = starts[starts < len(buf)]
    return starts[buf[starts] == OPEN]


def plain_lines(body: bytes | bytearray, compressed: bool = False) -> bytes | bytearray:
    """The object decompressed, with the specification's line breaks (``\\r\\n`` and lone ``\\r``) as ``\\n``."""
    if compressed:
        body = gzip.decompress(body)
    if b"\r" in body:
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return body
