"""Import a local copy of OpenAQ's legacy realtime files (the old ``openaq-fetches`` bucket).

The original fetch files are small (one per fetch); the study re-cut the data into
objects of about 25 MB. Lines are copied byte for byte, malformed ones included, so the
readers reject them with their reasons exactly as they would have in the original files.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
from pathlib import Path

from aqbench.errors import ConfigError, DataError
from aqbench.inputs import find_data_files
from aqbench.synth.generate import object_name, parse_size

log = logging.getLogger(__name__)


def import_legacy(sources: list[str | Path], out: str | Path, object_size: int | str = "25MB") -> dict[str, int]:
    """Re-cut legacy files into objects of about ``object_size`` under ``out`` (atomically)."""
    limit = parse_size(object_size)
    files = find_data_files(sources)
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"{out} exists and is not empty: remove it or choose another --out")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    objects, lines = 0, 0
    buffer = bytearray()

    def flush() -> None:
        nonlocal objects
        (tmp / object_name(objects)).write_bytes(buffer)
        objects += 1
        buffer.clear()

    try:
        for path in files:
            opener = gzip.open if path.name.endswith(".gz") else open
            try:
                with opener(path, "rb") as fh:
                    for line in fh:
                        buffer += line if line.endswith(b"\n") else line + b"\n"
                        lines += 1
                        if len(buffer) >= limit:
                            flush()
            except (OSError, EOFError) as exc:
                raise DataError(f"{path}: cannot read ({exc}); is the gzip file truncated or corrupt?") from exc
        if buffer:
            flush()
        if objects == 0:
            raise DataError("the legacy files hold no lines")
        if out.exists():
            out.rmdir()
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("imported %d files into %d objects (%d lines)", len(files), objects, lines)
    return {"files": len(files), "objects": objects, "lines": lines}
