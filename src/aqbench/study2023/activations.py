"""The slides' code, verbatim, in the study's software: one activation at a time, each in an
emulated Lambda of its memory size, every ``preprocess`` of the family, interleaved.

An activation is what the study's Lambda ran for one object: ``day_average_map`` (or
``day_max_map``) of one study-layout document, by ``runtime/study2023/activation.py`` in the
Python 3.8 environment (:mod:`.environment`). The objects are fetched from the store first and
checked against the manifest, so the activation's time is its code's (its own phases say how
much was the read, the JSON parse, the frame, ``preprocess``, and the slides' pandas); the
transfer is a factor of its own, measured elsewhere. Configurations are interleaved (A B C A B
C ...) so that the machine's drift spreads over all of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from aqbench import host_cpu
from aqbench.emulated import cgroups

HARNESS = Path("runtime/study2023/activation.py")
LITHOPS_JOB = Path("runtime/study2023/lithops_job.py")
PREPROCESS = ("str_accessors", "series_apply", "row_apply", "json_normalize", "to_datetime_element",
              "to_datetime_column")  # fmt: skip
"""The family of the unshown ``preprocess`` (runtime/study2023/study_code.py)."""


@dataclass(frozen=True)
class Plan:
    """What to run: every (repetition, memory size, preprocess, job, object), interleaved."""

    memory_mb: tuple[int, ...]
    repetitions: int
    preprocess: tuple[str, ...] = PREPROCESS
    jobs: tuple[str, ...] = ("average",)
    software: tuple[str, ...] = ("2023", "today")
    """2023: the study's environment; today: this project's Python and pandas, the code's lines today's
    pandas refuses replaced (``study_code.TODAY``): the software's factor, same code, same objects."""
    lithops_chunksize: int = 2
    """The Lithops 2.7.1 job around the activations (0: none): the warm-up's chunksize."""
    timeout_s: float = 900.0

    def points(self, objects: list[str]) -> list[dict[str, Any]]:
        return [
            {"repetition": r, "memory_mb": m, "software": w, "preprocess": p, "job": j, "object": o}
            for r in range(self.repetitions)
            for m in self.memory_mb
            for w in self.software
            for p in self.preprocess
            for j in self.jobs
            for o in objects
        ]


def _row(point: dict[str, Any], done: subprocess.CompletedProcess, run: str, call: str) -> dict[str, Any]:
    row: dict[str, Any] = dict(point)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode == 0 and lines:
        answer = json.loads(lines[-1])
        phases = answer.pop("phases_s")
        gc_passes = answer.pop("gc_passes")
        row.update(status="success", **{k: v for k, v in answer.items() if k not in ("job", "preprocess")})
        for name in ("download_bytes", "json_loads", "loads_recursive", "preprocess"):
            row[f"t_{name}"] = phases.get(name)
        row["t_slides_pandas"] = answer["seconds"] - sum(
            phases.get(n, 0.0) for n in ("download_bytes", "json_loads", "loads_recursive", "preprocess")
        )
        row.update(gc_gen0=gc_passes[0], gc_gen1=gc_passes[1], gc_gen2=gc_passes[2])
    else:
        killed = cgroups.was_oom_killed(run, call)
        last = (done.stderr or done.stdout or "").strip().splitlines()
        row.update(status="oom" if killed else "error", error=(last[-1] if last else f"exit {done.returncode}")[:300],
                   emulated=None, phase="map")  # fmt: skip
    return row


def _launch(memory_mb: int, run_id: str, call: str, program: list[str], env: dict | None, timeout_s: float):
    """The program in an emulated Lambda of ``memory_mb``; at its timeout its whole process group is killed
    (Lithops 2.7.1's runner and workers included), so nothing outlives it into the next measurement."""
    import os
    import signal

    argv = [sys.executable, "-m", "aqbench.study2023.launch", str(memory_mb), run_id, call, "--", *program]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)  # fmt: skip
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        return subprocess.CompletedProcess(argv, -9, out or "", "timeout")
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def run(python: str, store: Any, objects: list[Any], plan: Plan, progress: bool = True) -> list[dict[str, Any]]:
    """Every activation of ``plan`` on ``objects`` (manifest entries of study-layout documents), then, per
    repetition and memory size, the warm-up's job in small with the study's Lithops; a row each.

    ``python``: the study's environment's interpreter; today's is this process's own."""
    from aqbench.checkout import repository_root

    run_id = f"study2023-{uuid.uuid4().hex[:6]}"
    harness = str(repository_root(HARNESS) / HARNESS)
    rows = []
    with tempfile.TemporaryDirectory(prefix="aqbench-study2023-") as folder:
        names = []
        for obj in objects:  # read as every engine reads: checked against the manifest
            name = obj.key.rsplit("/", 1)[-1]
            (Path(folder) / name).write_bytes(bytes(store.get(obj.key, obj.expected)))
            names.append(name)
        sizes = {n: (Path(folder) / n).stat().st_size for n in names}
        try:
            for index, point in enumerate(tqdm(plan.points(names), desc="study code (2023)", disable=not progress)):
                call = f"a{index}"
                interpreter = python if point["software"] == "2023" else sys.executable
                program = [interpreter, harness, "--folder", folder, "--key", point["object"], "--job", point["job"],
                           "--preprocess", point["preprocess"], "--software", point["software"]]  # fmt: skip
                done = _launch(point["memory_mb"], run_id, call, program, None, plan.timeout_s)
                row = _row(point, done, run_id, call)
                row["object_bytes"] = sizes[point["object"]]
                row |= host_cpu.host().as_row()  # the CPU that measured it: the decomposition's CPU factor is its own
                if done.stderr == "timeout":
                    row["status"] = "timeout"
                rows.append(row)
            if plan.lithops_chunksize and getattr(store, "endpoint", None):
                rows += lithops_jobs(python, store, names, folder, plan, run_id, progress)
        finally:
            cgroups.cleanup(run_id)
    return rows


def lithops_jobs(
    python: str, store: Any, names: list[str], folder: str, plan: Plan, run_id: str, progress: bool = True
) -> list[dict[str, Any]]:
    """Lithops 2.7.1 around the activations: ``map(day_average_map, objs, chunksize)`` on its localhost
    backend, one worker (one "Lambda": the job runs in one emulated Lambda of the memory size, its
    driver included), its storage the local S3 server; a row per activation from Lithops' statistics.

    Its workers load worker_site (every S3 request closes its connection): without it, Lithops 2.7.1's
    result upload waited about 10 s on a connection SeaweedFS had kept alive, measured here once; that
    is this server's trap, not Lambda's, and would have been taken for Lithops' cost."""
    import os

    from aqbench.checkout import repository_root
    from aqbench.emulated.service import WORKER_SITE

    job = str(repository_root(LITHOPS_JOB) / LITHOPS_JOB)
    access, secret = store._credentials
    keys = (names * plan.lithops_chunksize)[: max(plan.lithops_chunksize, len(names))]
    rows = []
    points = [(r, m) for r in range(plan.repetitions) for m in plan.memory_mb]
    for index, (repetition, memory) in enumerate(tqdm(points, desc="Lithops 2.7.1 jobs", disable=not progress)):
        with tempfile.TemporaryDirectory(prefix="aqbench-lithops271-") as home:
            env = {
                "HOME": home,
                "TMPDIR": home,
                "PATH": f"{Path(python).parent}{os.pathsep}{os.environ['PATH']}",
                "PYTHONPATH": str(WORKER_SITE),
                "AQBENCH_S3_ACCESS_KEY": access,
                "AQBENCH_S3_SECRET_KEY": secret,
            }  # fmt: skip  (credentials in the environment, not on argv)
            program = [python, job, "--folder", folder, "--keys", *keys, "--endpoint", store.endpoint,
                       "--bucket", store.bucket, "--chunksize", str(plan.lithops_chunksize)]  # fmt: skip
            done = _launch(memory, run_id, f"l{index}", program, env, plan.timeout_s)
        base = {"phase": "lithops", "repetition": repetition, "memory_mb": memory, "software": "2023",
                "preprocess": "str_accessors", "job": "average"}  # fmt: skip
        answers = [json.loads(ln) for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode != 0 or not answers:
            last = (done.stderr or done.stdout or "").strip().splitlines()
            rows.append(base | {"status": "error", "error": (last[-1] if last else "no output")[:300]})
            continue
        for answer in answers:
            rows.append(base | {
                "status": "success",
                "object": keys[answer["activation"]],
                "position": answer["position"],
                "seconds": answer["worker_exec_time"],
                "t_function": answer["worker_func_exec_time"],
                "t_lithops": answer["worker_exec_time"] - answer["worker_func_exec_time"],
                "result_bytes": answer["func_result_size"],
                "t_result_upload": answer["worker_result_upload_time"],
            })  # fmt: skip
    return rows


def summary(rows: list[dict[str, Any]]) -> str:
    """Per memory size and preprocess: each software's median seconds per activation with its range
    (min-max of the repetitions, not an interval), peak memory, and 2023 over today as a ratio of medians
    measured in the same interleaved run."""
    import statistics

    ok = [r for r in rows if r["status"] == "success" and r.get("phase") == "map"]
    lines = [
        "memory  preprocess            2023 s [min-max]        today s [min-max]       2023/today  peak MB 2023/today"
    ]
    keys = sorted({(r["memory_mb"], r["preprocess"]) for r in ok})
    for memory, variant in keys:
        cells, medians, peaks = [], {}, {}
        for software in ("2023", "today"):
            got = [r for r in ok if (r["memory_mb"], r["preprocess"], r["software"]) == (memory, variant, software)]
            if not got:
                cells.append(f"{'-':>22s}")
                continue
            seconds = [r["seconds"] for r in got]
            medians[software] = statistics.median(seconds)
            peaks[software] = max(r["peak_rss_mb"] for r in got)
            cells.append(f"{medians[software]:7.2f} [{min(seconds):.2f}-{max(seconds):.2f}] n={len(got):<3d}")
        ratio = medians["2023"] / medians["today"] if len(medians) == 2 and medians["today"] else float("nan")
        peak = "/".join(f"{peaks[w]:.0f}" if w in peaks else "-" for w in ("2023", "today"))
        lines.append(f"{memory:6d}  {variant:20s} {cells[0]}  {cells[1]}  {ratio:9.2f}  {peak:>10s}")
    around = [r for r in rows if r.get("phase") == "lithops" and r["status"] == "success"]
    for memory in sorted({r["memory_mb"] for r in around}):
        got = [r["t_lithops"] for r in around if r["memory_mb"] == memory]
        spread = f"[{min(got):.2f}-{max(got):.2f}] n={len(got)}"
        lines.append(f"Lithops 2.7.1 around an activation, {memory} MB: median {statistics.median(got):.2f} s "
                     f"{spread} (the worker's time less the function's)")  # fmt: skip
    failed = [r for r in rows if r["status"] != "success"]
    for r in failed:
        what = f"{r['memory_mb']} MB {r.get('phase', 'map')} {r['software']} {r['preprocess']}"
        lines.append(f"failed: {what}: {r['status']} {r.get('error', '')}")
    return "\n".join(lines)
