"""The checkout this package runs from: where files that are not Python modules live (the Lambda
image's Dockerfile, the study's 2023 environment and code under ``runtime/``)."""

from __future__ import annotations

from pathlib import Path

from aqbench.errors import ConfigError


def repository_root(marker: Path = Path("runtime")) -> Path:
    """The checkout of an editable install (as ``make`` installs it), else the current folder, whichever
    holds ``marker``; one line where neither does (a workflow copied elsewhere still finds it)."""
    import aqbench

    for root in (Path(aqbench.__file__).resolve().parents[2], Path.cwd()):
        if (root / marker).exists():
            return root
    raise ConfigError(f"{marker} not found: run aqbench from a checkout of its repository")
