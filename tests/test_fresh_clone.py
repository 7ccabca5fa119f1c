"""What a new user gets: on a fresh clone, with the committed canonical results present, the
workflow plans the whole study, and no committed result stands in for a job that never ran.

A clone is not the author's checkout: it has no ``.snakemake`` metadata and every file has the
checkout's time, so a committed output whose rule has no inputs from this run looks done
forever (it once made ``make reproduce`` skip the data generation and fail in 20 s).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import REPO

BIN = Path(sys.executable).parent
PROFILES = {"default": [], "paper": ["workflow/config/paper.yaml"], "aws": ["workflow/config/aws.yaml"]}
MAKE_WRITES = {"reference/aggregates.csv.gz"}
"""Committed results that `make reproduce` writes after Snakemake (the Makefile's own step)."""


@dataclass
class Job:
    rule: str
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # outputs, log and benchmark


def _git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A clone of this checkout as CI makes it (HEAD, plus what is changed but not committed yet)."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    target = tmp_path_factory.mktemp("clone") / "aqbench"
    _git("clone", "--quiet", "--shared", str(REPO), str(target))
    work = _git("stash", "create").strip()  # the working tree's tracked changes as a commit, if any
    if work:
        _git("checkout", "--quiet", work, cwd=target)
    for name in _git("ls-files", "--others", "--exclude-standard", "-z").split("\0"):
        if name and (REPO / name).is_file():  # new files not committed yet travel too
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


def _plan(clone: Path, configfiles: list[str], *extra: str) -> list[Job]:
    """The jobs ``snakemake -n`` plans in the clone, with their files."""
    args = [str(BIN / "snakemake"), "-n", "--cores", "2", *extra]
    for configfile in configfiles:
        args += ["--configfile", configfile]
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(args, cwd=clone, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    jobs: list[Job] = []
    for line in (done.stdout + done.stderr).splitlines():
        if m := re.fullmatch(r"(?:local)?rule (\w+):", line):
            jobs.append(Job(m.group(1)))
        elif jobs and (m := re.fullmatch(r"    (input|output|log|benchmark): (.*)", line)):
            files = [f for f in m.group(2).split(", ") if f]
            if m.group(1) == "input":
                jobs[-1].inputs += files
            else:
                jobs[-1].written += files
                if m.group(1) == "output":
                    jobs[-1].outputs += files
    return [job for job in jobs if job.rule != "all"]


def _key(jobs: list[Job]) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((job.rule, tuple(sorted(job.outputs))) for job in jobs)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_a_fresh_clone_plans_the_whole_study(clone, profile):
    """The plan is every job of the study (what --forceall plans), and no job reads a result
    that no planned job writes: a committed result is never taken for this run's."""
    planned = _plan(clone, PROFILES[profile])
    everything = _plan(clone, PROFILES[profile], "--forceall")
    skipped = sorted({job.rule for job in everything} - {job.rule for job in planned})
    assert _key(planned) == _key(everything), f"a fresh clone would not run: {skipped}"
    written = {path for job in planned for path in job.written}
    for job in planned:
        for path in job.inputs:
            if path.startswith("results/"):
                assert path in written, f"{job.rule} reads {path}, which no planned job writes"
            else:
                assert (clone / path).exists(), f"{job.rule} reads {path}, which is not in the clone"


def test_make_reproduce_paper_rewrites_every_committed_result(clone):
    """Every committed file under results/ is the canonical paper profile's, written by a job of
    its plan (an output, log or benchmark) or by the Makefile's own step after it: nothing
    committed is stale, and nothing of another profile is committed."""
    written = {path for job in _plan(clone, PROFILES["paper"]) for path in job.written}
    committed = _git("ls-files", "results", cwd=clone).split()
    assert committed and all(path.startswith("results/paper/") for path in committed)
    stale = [
        path
        for path in committed
        if path not in written
        and not any(path.startswith(d.rstrip("/") + "/") for d in written)
        and path.removeprefix("results/paper/") not in MAKE_WRITES
    ]
    assert not stale, f"committed but never rewritten by make reproduce-paper: {stale}"
