"""Import a local copy of OpenAQ's legacy realtime files (the old ``openaq-fetches`` bucket).

The original fetch files are small (one per fetch); the study re-cut the data into
objects of about 25 MB. Lines are copied byte for byte, malformed ones included, so the
readers reject them with their reasons exactly as they would have in the original files.
"""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

from aqbench.batching import ObjectFolder
from aqbench.errors import DataError
from aqbench.inputs import find_data_files
from aqbench.sources.synth.generate import parse_size

log = logging.getLogger(__name__)


def import_legacy(sources: list[str | Path], out: str | Path, object_size: int | str = "25MB") -> dict[str, int]:
    """Re-cut legacy files into objects of about ``object_size`` under ``out`` (atomically)."""
    files = find_data_files(sources)
    with ObjectFolder(out, parse_size(object_size)) as folder:
        for path in files:
            opener = gzip.open if path.name.endswith(".gz") else open
            try:
                with opener(path, "rb") as fh:
                    for line in fh:
                        folder.add(line)
            except (OSError, EOFError) as exc:
                raise DataError(f"{path}: cannot read ({exc}); is the gzip file truncated or corrupt?") from exc
    log.info("imported %d files into %d objects (%d lines)", len(files), folder.objects, folder.lines)
    return {"files": len(files), "objects": folder.objects, "lines": folder.lines}
