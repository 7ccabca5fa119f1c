"""The kernels' Lambda runtime image: built so that Lambda accepts it, named by what goes into it,
pushed where Lithops looks for it, deployed as one function per memory size, recorded.

Lithops' default Lambda runtime has numpy and requests but not pyarrow, pandas or this
package, so a map call would fail on its first import. ``runtime/aws_lambda/Dockerfile``
(Lithops' container layout) installs ``runtime/aws_lambda/requirements.txt`` — exactly what the
calls import, pinned — and this package without the workflow's dependencies.

Why not Lithops' own ``build_runtime``: it runs ``docker build --platform=linux/amd64`` and takes
extra flags after it, so an arm64 image got two ``--platform`` flags (buildx builds both: a
two-platform index, which Lambda refuses), and recent Docker setups push a provenance
attestation beside the image, which makes an OCI index Lambda refuses too ("image manifest …
media type not supported"). Here the build is one ``docker buildx build`` for one platform with
no attestations, and the push follows Lithops' own naming (its repository name, its handler
zip), so that Lithops' ``deploy_runtime`` and its invoker find the image and the functions.

The image's Python is the host's: Lithops refuses a runtime whose Python differs from its
client's. The pinned requirements have binary wheels for Python 3.11-3.14 on x86_64 and arm64
(checked on 2026-12-07 with ``pip download --only-binary=:all: --python-version V --platform P``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from aqbench.atomic import atomic_path
from aqbench.errors import ConfigError

log = logging.getLogger(__name__)

RUNTIME_DIR = Path("runtime/aws_lambda")
DOCKERFILE = RUNTIME_DIR / "Dockerfile"
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
"""Pythons the image can take from the host (every pinned requirement has wheels for them)."""

PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}

ACCEPTED_MANIFESTS = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)
"""Image manifests Lambda takes: a single image, never an index or a manifest list."""

EVENT_MAX_AGE_S = 120
"""How long Lambda may keep a throttled asynchronous invocation queued before dropping it.

Lambda's default is six hours, so a throttled call could start long after the engine had
given it up and resubmitted it: both would run and be billed. The engine waits for a phase
for the call timeout plus this (:data:`aqbench.engines.lithops.engine.PHASE_SLACK_S`), so a
call either starts within it and ends before the engine stops waiting, or never starts."""


def host_python() -> str:
    """The host's Python as the image takes it (major.minor); one line where no image can have it."""
    version = "{}.{}".format(*sys.version_info[:2])
    if version not in SUPPORTED_PYTHONS:
        raise ConfigError(
            f"this host runs Python {version}, which the Lambda image cannot match (Lithops needs the "
            f"same Python on both sides): run the workflow with Python {' to '.join(SUPPORTED_PYTHONS[::3])}"
        )
    return version


def repository_root() -> Path:
    """The checkout the image is built from (:func:`aqbench.checkout.repository_root`)."""
    from aqbench.checkout import repository_root as root

    return root(DOCKERFILE)


def image_inputs(root: Path | None = None) -> list[Path]:
    """Every file the image is built from (what the Dockerfile copies), relative to the repository root."""
    root = repository_root() if root is None else root
    fixed = [DOCKERFILE, RUNTIME_DIR / "requirements.txt", Path("pyproject.toml"), Path("README.md")]
    fixed.append(Path(".dockerignore"))
    package = [
        p.relative_to(root)
        for p in sorted((root / "src").rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and not any(part.endswith(".egg-info") for part in p.parts)
    ]
    return fixed + package


def image_tag(architecture: str, root: Path | None = None, python: str | None = None) -> str:
    """A tag that changes with anything that goes into the image: its files, Lithops' handler
    (its version), the Python and the architecture. A changed file is a new image, never a stale one."""
    import lithops

    root = repository_root() if root is None else root
    digest = hashlib.sha256()
    for part in (lithops.__version__, python or host_python(), architecture):
        digest.update(part.encode() + b"\0")
    for path in image_inputs(root):
        digest.update(str(path).encode() + b"\0" + (root / path).read_bytes() + b"\0")
    return f"{digest.hexdigest()[:12]}-{architecture}"


def default_name(architecture: str, root: Path | None = None) -> str:
    """The image name when the profile names none: ``aqbench-runtime:<hash of its inputs>-<architecture>``."""
    return f"aqbench-runtime:{image_tag(architecture, root)}"


def build_command(docker: str, name: str, architecture: str, python: str) -> list[str]:
    """One platform, no provenance or SBOM attestations (a single image manifest), the host's Python."""
    return [
        docker, "buildx", "build",
        f"--platform={PLATFORMS[architecture]}",
        "--provenance=false", "--sbom=false",
        "--build-arg", f"PYTHON_VERSION={python}",
        "--load", "-t", name, "-f", str(DOCKERFILE), ".",
    ]  # fmt: skip


def handler(lithops_config: dict[str, Any]) -> tuple[Any, Any]:
    """Lithops' serverless handler and internal storage for the profile's AWS Lambda configuration."""
    from lithops.config import default_config, extract_serverless_config, extract_storage_config
    from lithops.serverless import ServerlessHandler
    from lithops.storage import InternalStorage

    config = default_config(config_data=lithops_config, load_storage_config=True)
    storage = InternalStorage(extract_storage_config(config))
    return ServerlessHandler(extract_serverless_config(config), storage), storage


def docker() -> str:
    """The docker command, its daemon reachable and buildx there; else one line saying what to do."""
    path = shutil.which("docker")
    if path is None:
        raise ConfigError("building the Lambda runtime needs Docker: install it (docs.docker.com/get-docker)")
    for args, what in ((["info", "--format", "{{.ServerVersion}}"], "its daemon"), (["buildx", "version"], "buildx")):
        done = subprocess.run([path, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ConfigError(f"docker is installed but {what} does not answer ({_last(done)}): start Docker "
                              "(or install the buildx plugin), then rerun")  # fmt: skip
    return path


def _last(done: subprocess.CompletedProcess) -> str:
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    return lines[-1] if lines else f"exit {done.returncode}"


def build(backend: Any, name: str, architecture: str, python: str) -> None:
    """Build the image locally, Lithops' handler zip in the context as its Dockerfile expects."""
    from lithops.serverless.backends.aws_lambda.aws_lambda import LITHOPS_FUNCTION_ZIP

    command = build_command(docker(), name, architecture, python)
    root = repository_root()
    log.info("building %s in %s: %s", name, root, " ".join(command))
    here = Path.cwd()
    try:
        os.chdir(root)  # the build context, where Lithops writes its handler zip
        backend._create_handler_bin(remove=False)
        done = subprocess.run(command, check=False)
    finally:
        Path(LITHOPS_FUNCTION_ZIP).unlink(missing_ok=True)
        os.chdir(here)
    if done.returncode != 0:
        raise ConfigError(f"docker buildx build of {name} failed (exit {done.returncode}): its output is above")


def push(backend: Any, name: str) -> dict[str, Any]:
    """Push to the repository Lithops deploys from; the pushed image's URI by digest, media type, size."""
    import base64

    from lithops.utils import docker_login

    ecr = backend.ecr_client
    registry = f"{backend.account_id}.dkr.ecr.{backend.region}.amazonaws.com"
    auth = ecr.get_authorization_token()["authorizationData"][0]
    docker_login("AWS", base64.b64decode(auth["authorizationToken"]).split(b":")[1].decode(), registry)
    repository = backend._format_repo_name(name)
    tag = name.split(":", 1)[1] if ":" in name else "latest"
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=repository)
    remote = f"{registry}/{repository}:{tag}"
    path = docker()
    for command in ([path, "tag", name, remote], [path, "push", remote]):
        subprocess.run(command, check=True)
    return pushed(ecr, registry, repository, tag)


def pushed(ecr: Any, registry: str, repository: str, tag: str) -> dict[str, Any]:
    """What ECR holds under the tag; refused in one line where Lambda would refuse it (an index)."""
    (image,) = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"]
    media = image.get("imageManifestMediaType", "")
    if media not in ACCEPTED_MANIFESTS:
        raise ConfigError(
            f"ECR holds {repository}:{tag} as {media or 'an unknown manifest type'}, which Lambda refuses: "
            "it takes one image manifest (build it for one platform with --provenance=false)"
        )
    return {
        "image_uri": f"{registry}/{repository}@{image['imageDigest']}",
        "digest": image["imageDigest"],
        "manifest_media_type": media,
        "size_bytes": int(image.get("imageSizeInBytes", 0)),
    }


def refresh(lambda_client: Any, function: str, image_uri: str, timeout_s: int) -> str:
    """An existing function brought to this image and timeout (Lithops keeps an existing one as it
    is); 'absent', 'current' or 'updated'."""
    try:
        found = lambda_client.get_function(FunctionName=function)
    except lambda_client.exceptions.ResourceNotFoundException:
        return "absent"
    changed = "current"
    if found.get("Code", {}).get("ImageUri") != image_uri:
        lambda_client.update_function_code(FunctionName=function, ImageUri=image_uri)
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function)
        changed = "updated"
    if found["Configuration"].get("Timeout") != timeout_s:
        lambda_client.update_function_configuration(FunctionName=function, Timeout=timeout_s)
        lambda_client.get_waiter("function_updated_v2").wait(FunctionName=function)
        changed = "updated"
    return changed


def configure_async(lambda_client: Any, function: str) -> dict[str, int]:
    """No automatic retries and a short queue for the function's asynchronous invocations.

    The engine resubmits a failed call itself (``lithops.retries``), each attempt a row; Lambda's
    own two retries would rerun it unseen, and bill it. See :data:`EVENT_MAX_AGE_S` for the age."""
    settings = {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": EVENT_MAX_AGE_S}
    lambda_client.put_function_event_invoke_config(FunctionName=function, **settings)
    return settings


def build_and_deploy(
    serverless: Any,
    storage: Any,
    name: str,
    memory_sizes: list[int],
    architecture: str,
    timeout_s: int,
    out: Path,
    on_pushed: Any = None,
) -> dict[str, Any]:
    """Build and push the image, deploy (or bring up to date) a function per memory size, store the
    runtime's metadata as ``lithops runtime deploy`` does, and record what was deployed.

    ``on_pushed(image)``: called once the image is in ECR (and costs its storage), whatever follows."""
    import lithops

    root = repository_root()
    python = host_python()
    backend = serverless.backend
    build(backend, name, architecture, python)
    image = push(backend, name)
    if on_pushed is not None:
        on_pushed(image)
    functions = {}
    for memory in sorted(set(memory_sizes)):
        function = backend._format_function_name(name, memory)
        state = refresh(backend.lambda_client, function, image["image_uri"], timeout_s)
        meta = serverless.deploy_runtime(name, memory, timeout_s)  # creates it if absent; one invocation
        if meta.get("python_version") != python:
            raise ConfigError(f"the deployed {name} runs Python {meta.get('python_version')}, this host {python}: "
                              "rebuild it (delete runtime.json)")  # fmt: skip
        # stored where Lithops looks first: without it, a job's executor deploys again with its own timeout
        storage.put_runtime_meta(serverless.get_runtime_key(name, memory, lithops.__version__), meta)
        functions[str(memory)] = {"function": function, "before": state, **configure_async(backend.lambda_client,
                                                                                            function)}  # fmt: skip
    record = {
        "image": name,
        **image,
        "python": python,
        "lithops": lithops.__version__,
        "architecture": architecture,
        "memory_mb": sorted(set(memory_sizes)),
        "timeout_s": timeout_s,
        "functions": functions,
        "requirements": (root / RUNTIME_DIR / "requirements.txt").read_text().split("\n"),
    }
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
    return record
