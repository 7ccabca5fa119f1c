"""The study's software, rebuilt: a virtual environment of Python 3.8 from ``runtime/study2023/requirements.lock``.

Python 3.8 because the study's Lambda runtime was ``lithops-default-runtime-v38`` (its logs);
the packages are the releases the package index held on 2023-01-16, the day of the study's
warm-up (the lock's header says how it was resolved). The interpreter is found, not installed:
``AQBENCH_PYTHON38`` (``make PYTHON38=...``), else pyenv's 3.8 versions, else ``python3.8`` on
the PATH. Where none is, the rules that need it are left out of the study with one line saying
how to get one (``pyenv install 3.8``), and the paper says their results are absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from aqbench.atomic import atomic_path
from aqbench.errors import ConfigError

LOCK = Path("runtime/study2023/requirements.lock")
VERSION = "3.8"
HOW_TO_GET = (
    "the study's 2023 software needs Python 3.8: install it (`pyenv install 3.8`) or name one "
    "(`make PYTHON38=/path/to/python3.8 ...`); the rest of the study runs without it"
)


def _version(python: str) -> str | None:
    try:
        done = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def candidates() -> list[str]:
    """Where a Python 3.8 may be, in order: the named one, pyenv's, the PATH's."""
    named = os.environ.get("AQBENCH_PYTHON38", "")
    if named:
        return [named]  # named: that one or none
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = sorted(root.glob(f"versions/{VERSION}*/bin/python{VERSION}"), reverse=True)
    on_path = shutil.which(f"python{VERSION}")
    return [str(p) for p in found] + ([on_path] if on_path else [])


def find_python38() -> str | None:
    """The first candidate that is a working Python 3.8, or None."""
    for python in candidates():
        if _version(python) == VERSION:
            return python
    return None


VENV = ".venv-study2023"
"""The environment's folder in the checkout (beside ``.venv``), shared by every run and test."""


def build(python: str | None, venv: Path | None = None, lock: Path | None = None) -> dict:
    """The environment at ``venv`` (default: the checkout's) from ``lock`` (default: the checkout's),
    rebuilt only when the lock or the interpreter changed; what it holds. Builders take turns (a lock
    file beside it): tests and rules may ask for it at once."""
    import fcntl

    from aqbench.checkout import repository_root

    if not python or _version(python) != VERSION:
        raise ConfigError(HOW_TO_GET if not python else f"{python} is not a Python {VERSION}: {HOW_TO_GET}")
    lock = repository_root(LOCK) / LOCK if lock is None else lock
    venv = repository_root(LOCK) / VENV if venv is None else venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{venv.name}.building", "w") as turn:
        fcntl.flock(turn, fcntl.LOCK_EX)
        return _build(python, venv, lock)


def _build(python: str, venv: Path, lock: Path) -> dict:
    stamp = venv / ".aqbench-lock"
    want = hashlib.sha256(lock.read_bytes() + python.encode()).hexdigest()
    if not (stamp.exists() and stamp.read_text() == want):
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        done = subprocess.run([*pip, "--require-hashes", "--no-deps", "-r", str(lock)], capture_output=True,
                              text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            errors = [ln for ln in done.stderr.splitlines() if "ERROR" in ln] or done.stderr.splitlines()[-1:]
            raise ConfigError(f"installing {lock} into {venv} failed: {errors[-1] if errors else done.returncode}")
        stamp.write_text(want)
    listed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json",
                             "--disable-pip-version-check"], capture_output=True, text=True, check=True)  # fmt: skip
    packages = {p["name"].lower(): p["version"] for p in json.loads(listed.stdout)}
    full = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.version.split()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    return {
        "python": full,
        "interpreter": python,
        "venv": str(venv),
        "lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest(),
        "packages": {k: packages[k] for k in sorted(packages)},
    }


def write(record: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
