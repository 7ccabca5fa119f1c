"""The Lambda runtime of the kernels: a container image built and deployed with Lithops' own calls.

Lithops' default Lambda runtime has numpy and requests but not pyarrow, pandas or this
package, so a map call would fail on its first import. ``runtime/aws_lambda/Dockerfile``
(Lithops' container layout) installs ``runtime/aws_lambda/requirements.txt`` — exactly what
the calls import, pinned — and this package without the workflow's dependencies. This module
builds it (Lithops builds, pushes to the account's ECR and records it), deploys one function
per memory size of the profile's grid, and records the image and its digest for the
provenance. Nothing here runs in tests except through a stand-in for Lithops' handler.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any

from aqbench import __version__
from aqbench.atomic import atomic_path
from aqbench.errors import ConfigError

log = logging.getLogger(__name__)

DOCKERFILE = Path("runtime/aws_lambda/Dockerfile")


def default_name(architecture: str) -> str:
    """The image name when the profile names none: one per package version and architecture."""
    return f"aqbench-runtime:{__version__}-{architecture}"


def handler(lithops_config: dict[str, Any]) -> Any:
    """Lithops' serverless handler for the profile's AWS Lambda configuration."""
    from lithops.config import default_config, extract_serverless_config, extract_storage_config
    from lithops.serverless import ServerlessHandler
    from lithops.storage import InternalStorage

    config = default_config(config_data=lithops_config, load_storage_config=True)
    storage = InternalStorage(extract_storage_config(config))
    return ServerlessHandler(extract_serverless_config(config), storage)


def build_and_deploy(
    serverless: Any, name: str, memory_sizes: list[int], architecture: str, timeout_s: int, out: Path
) -> dict[str, Any]:
    """Build the image with Lithops, deploy a function per memory size, record what was deployed."""
    if not DOCKERFILE.exists():
        raise ConfigError(f"{DOCKERFILE} not found: run from the repository root")
    if shutil.which("docker") is None:
        raise ConfigError("building the Lambda runtime needs Docker: install it (docs.docker.com/get-docker)")
    # Lithops 3.8 builds for linux/amd64; docker takes the last --platform given, so arm64 is asked for after it
    extra = ["--platform=linux/arm64"] if architecture == "arm64" else []
    serverless.build_runtime(name, str(DOCKERFILE), extra)
    deployed = {}
    for memory in sorted(set(memory_sizes)):
        deployed[str(memory)] = serverless.deploy_runtime(name, memory, timeout_s)
    record = {
        "image": name,
        "digest": image_digest(name),
        "architecture": architecture,
        "memory_mb": sorted(set(memory_sizes)),
        "requirements": (DOCKERFILE.parent / "requirements.txt").read_text().split("\n"),
    }
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
    return record


def image_digest(name: str) -> str | None:
    """The pushed image's digest, as docker knows it (None where docker cannot say)."""
    done = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", name],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        digests = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return None
    return digests[0] if digests else None


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
