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


def test_readme_opens_with_the_two_commands():
    lines = [ln.split("#")[0].strip() for ln in (REPO / "README.md").read_text().splitlines()]
    assert lines[:2] == ["make reproduce", "make test"]
