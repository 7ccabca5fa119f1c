"""What the Lambda runtime must hold: every distribution the calls import, found by running them.

``runtime/aws_lambda/requirements.txt`` is what the image installs (:mod:`aqbench.aws.image`
builds it); :func:`missing` names what a call would import that the list would not install.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

DOCKERFILE = Path("runtime/aws_lambda/Dockerfile")

PROBE_CALL = """
import gzip, pathlib, tempfile
import aqbench.engines.lithops.calls, aqbench.storage.archive_stage, aqbench.storage.s3, lithops.worker
from aqbench.kernels import get_kernel
from aqbench.sources.archive import convert_rows
from aqbench.storage import checksum
from aqbench.storage.stage import describe
body = b'{"date": {"utc": "2018-01-01T00:00:00Z"}, "parameter": "pm10", "value": 1, "unit": "x", "country": "PL"}\\n'
checksum(body)
for name in ("arrow", "ndjson", "seed"):
    kernel = get_kernel(name)
    kernel.finalize(kernel.reduce(kernel.map(bytearray(body), "o.ndjson", 2)))
csv = b"location_id,sensors_id,location,datetime,lat,lon,parameter,units,value\\n"
csv += b"1,1,A,2024-01-01T01:00:00+01:00,1,2,pm10,x,3\\n"
with tempfile.TemporaryDirectory() as tmp:
    path = pathlib.Path(tmp, "o.ndjson")
    path.write_bytes(b"\\n".join(convert_rows(gzip.compress(csv), "PL", "p")) + b"\\n")
    describe(path, "o.ndjson")
"""
"""What the calls do on Lambda, in small: import the functions Lithops runs, its worker and the
storage client; check an object, map, reduce and finalize with each verified kernel; convert an
archive file and describe the object (the staging call's DuckDB reference partial), so the
imports they make only when called count too."""


def imported_distributions(probe: str = PROBE_CALL) -> set[str]:
    """The installed distributions whose modules a fresh interpreter loads to run ``probe``."""
    import importlib.metadata as md
    import sys

    def loaded(code: str) -> set[str]:
        code = "import sys\n" + code + "\nprint('\\n'.join(sys.modules))"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        return {name.split(".")[0] for name in done.stdout.split()}

    # what the interpreter loads before any import (site hooks of this environment) is not the calls'
    tops = loaded(probe) - loaded("") - set(sys.stdlib_module_names) - {"aqbench"}
    owners = md.packages_distributions()
    return {_canonical(d) for top in tops for d in owners.get(top, [])}


def closure(requirements: list[str]) -> set[str]:
    """The requirements and everything they require in turn (as installed here), by canonical name."""
    import importlib.metadata as md
    import re

    todo = [_canonical(re.split(r"[<>=!~ ;\[]", r.strip(), maxsplit=1)[0]) for r in requirements]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            for req in md.requires(name) or []:
                if "extra ==" not in req:
                    todo.append(_canonical(re.split(r"[<>=!~ ;\[(]", req, maxsplit=1)[0]))
        except md.PackageNotFoundError:
            continue
    return seen


def missing(requirements: list[str]) -> set[str]:
    """Distributions the calls import that the runtime's requirement list would not install."""
    return imported_distributions() - closure(requirements)


def requirement_lines(path: Path = DOCKERFILE.parent / "requirements.txt") -> list[str]:
    return [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")
