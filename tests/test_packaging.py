"""The two ways to install aqbench stay in step, and the README starts with the two commands."""

from __future__ import annotations

import re
import tomllib

import yaml

from conftest import REPO


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_names_the_same_packages_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    wanted |= {_name(r) for r in project["optional-dependencies"]["test"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    conda |= {_name(d) for entry in env["dependencies"] if isinstance(entry, dict) for d in entry.get("pip", [])}
    assert conda == wanted


def _lock() -> dict[str, str]:
    text = (REPO / "requirements.lock").read_text()
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^ \\;]+)", text, re.M)}


def test_the_lock_pins_every_requirement_within_pyproject_and_environment_yml():
    """`make install` installs the lock; it must satisfy both declared ways to install."""
    from packaging.requirements import Requirement

    lock = _lock()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "environment.yml").read_text())["dependencies"]
    conda = [d for d in env if isinstance(d, str)] + [d for e in env if isinstance(e, dict) for d in e["pip"]]
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"], *conda]
    for spec in declared:
        req = Requirement(spec.split("#")[0].strip().replace(" ", ""))
        if req.name in ("python", "pip"):
            continue
        name = req.name.lower().replace("_", "-")
        assert name in lock, f"{name} is not in requirements.lock: run make lock"
        assert req.specifier.contains(lock[name], prereleases=True), f"{name}=={lock[name]} outside {req.specifier}"
    text = (REPO / "requirements.lock").read_text()
    assert all(
        "--hash=sha256:" in block for block in re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2]) if "==" in block
    ), "every pin has its hashes"


def test_readme_opens_with_the_two_commands():
    lines = [ln.split("#")[0].strip() for ln in (REPO / "README.md").read_text().splitlines()]
    assert lines[:2] == ["make reproduce", "make test"]
