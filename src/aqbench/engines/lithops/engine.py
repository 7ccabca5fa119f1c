"""Running the kernel as Lithops map and reduce calls, one run at a time, measured and verified.

The executor comes from the profile: Lithops' ``localhost`` backend or ``aws_lambda`` with
real Lambda functions. On localhost a call runs either in a fresh process (Lithops' own
runner: every call a cold start) or, with ``warm_environments`` (the default profiles), in an
execution environment of the emulated Lambda service (:mod:`aqbench.emulated.service`), which
outlives a call and serves the next one warm; both are held to a Lambda of the run's memory
size where the host allows. Storage is the profile's store. No
``~/.lithops`` file is needed: the whole Lithops configuration is built here, and Lithops'
home and temporary folders are the project's (set before Lithops is imported).

One module (longer than most here): a run's phases, their retries and the rows of every attempt
share the run's futures and records; where the calls run is :mod:`.platforms`', what they run
:mod:`.calls`'.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from aqbench.emulated import cgroups
from aqbench.emulated.platform import LOOPBACK_MONITORING_INTERVAL_S
from aqbench.engines.faults import Faults
from aqbench.engines.lithops.platforms import platform_for
from aqbench.engines.runs import RunConfig, RunResult
from aqbench.engines.work import PHASES
from aqbench.errors import ConfigError
from aqbench.storage import Expected

log = logging.getLogger(__name__)

STAT_COLUMNS = {
    "host_submit_tstamp": "t_submit",
    "worker_cold_start": "cold_start",
    "worker_func_recv_net_io": "net_recv_bytes",
    "worker_func_sent_net_io": "net_sent_bytes",
    "func_result_size": "result_bytes",
}
"""Lithops statistics that fill the common columns. Its CPU figures are the host's (psutil,
system-wide) on localhost, so the call's own CPU comes from the call's rusage instead; the
network counters are the function's own on Lambda but the host's on localhost."""


LITHOPS_SESSION_VARIABLES = ("__LITHOPS_SESSION_ID", "__LITHOPS_TOTAL_EXECUTORS")
"""Lithops exports its session to child processes so they share executor IDs (and so storage
keys). An experiment started from a process that used Lithops (a test runner, a notebook)
would join that session, and two experiments would get the same executor ID: one's
background clean-up then deleted the other's function pickle (seen as NoSuchKey)."""


def prepare_environment(home: Path, tmp: Path) -> None:
    """Keep Lithops' files in the project and start a session of our own: call before ``import lithops``.

    ``HOME`` is left alone: botocore finds ``~/.aws/config``, ``~/.aws/credentials``, the SSO
    token cache and ``AWS_PROFILE``'s profile through it, and docker its logins and contexts.
    Lithops' own folder (``~/.lithops``: its configuration file and runtime metadata cache) is
    pointed at ``home`` instead, in the constants Lithops reads it from.
    """
    for name in LITHOPS_SESSION_VARIABLES:
        os.environ.pop(name, None)
    home.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LITHOPS_CONFIG_FILE", str((home / "no-config.yaml").resolve()))
    if "lithops" not in sys.modules:  # Lithops reads its temporary folder once, when imported
        os.environ["TMPDIR"] = str(tmp.resolve())
        # every process Lithops starts loads worker_site/sitecustomize.py: S3 connections close
        from aqbench.emulated.service import WORKER_SITE

        site = str(WORKER_SITE)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (site, os.environ.get("PYTHONPATH", "")) if p)
    keep_lithops_home(home)


def keep_lithops_home(home: Path) -> None:
    """Point Lithops' ``~/.lithops`` at ``home`` in this process (its constants and the modules
    that copied them), without touching ``HOME``."""
    import lithops.constants as constants

    old = constants.CACHE_DIR
    config_dir = str((home / ".lithops").resolve())
    values = {
        "HOME_DIR": str(home.resolve()),
        "CONFIG_DIR": config_dir,
        "CACHE_DIR": os.path.join(config_dir, "cache"),
        "CONFIG_FILE": os.path.join(config_dir, "config"),
    }
    for name, value in values.items():
        setattr(constants, name, value)
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("lithops.") and getattr(module, "CACHE_DIR", None) == old:
            module.CACHE_DIR = values["CACHE_DIR"]


def _on_loopback(backend: str, settings: dict[str, Any]) -> bool:
    endpoint = str(settings.get("endpoint", ""))
    return backend == "localhost" or "://127.0.0.1" in endpoint or "://localhost" in endpoint


def lithops_config(
    backend: dict[str, Any], storage: dict[str, Any], memory_mb: int, timeout_s: float, concurrency: int
) -> dict[str, Any]:
    """The whole Lithops configuration for one run."""
    name = backend.get("name", "localhost")
    st_backend = storage["backend"]
    config: dict[str, Any] = {
        "lithops": {
            "backend": name,
            "storage": st_backend,
            "log_level": "WARNING",
            "execution_timeout": int(timeout_s) + 60,
            "include_modules": [],
        },
        st_backend: dict(storage[st_backend]),
    }
    if _on_loopback(st_backend, storage[st_backend]):
        config["lithops"]["monitoring_interval"] = LOOPBACK_MONITORING_INTERVAL_S
    config.update(platform_for(backend).compute_config(memory_mb, timeout_s, concurrency))
    return config


def _call_row(phase: str, future: Any, result: Any, task: dict[str, Any], run: RunResult, oom: bool) -> dict:
    stats = dict(getattr(future, "stats", {}) or {})
    ok = isinstance(result, dict) and not getattr(future, "error", False)
    row = run.call_row(
        phase,
        task["call"],
        status=result.get("status", "success") if ok else ("oom" if oom else "error"),
        worker=stats.get("worker_exec_id") or f"lithops-{phase}-{task['call']}",
        t_start=stats.get("worker_func_start_tstamp"),
        t_end=stats.get("worker_func_end_tstamp"),
    )
    # the call itself says whether it ran emulated; a call that died cannot, except one its
    # emulated Lambda's memory group killed (the group's OOM record is the evidence)
    row["emulated"] = True if oom else None
    for key, column in STAT_COLUMNS.items():
        if key in stats:
            row[column] = stats[key]
    if row["t_start"] is not None and row["t_end"] is not None:
        row["duration_s"] = row["t_end"] - row["t_start"]
    if ok:
        if result.get("error"):
            row["error"] = result["error"]
        row.update(
            emulated=result.get("emulated"),
            peak_rss_mb=result.get("peak_rss_mb"),
            objects=result.get("objects"),
            bytes_read=result.get("bytes_read"),
            bytes_written=result.get("bytes_written"),
            cpu_user_s=result.get("cpu_user_s"),
            cpu_system_s=result.get("cpu_system_s"),
        )
        row.update({f"time_{p}": result[f"time_{p}"] for p in PHASES if f"time_{p}" in result})
        if row.get("duration_s") is None:
            row["duration_s"] = result.get("seconds")
        if result.get("seconds"):
            # the call's CPU time over its duration, in cores (1.0 = one core busy throughout)
            row["cpu_usage"] = (result["cpu_user_s"] + result["cpu_system_s"]) / result["seconds"]
    else:
        row["objects"] = len(task.get("keys", []))
    for key, value in stats.items():
        if isinstance(value, int | float | str | bool) or value is None:
            row[f"lithops_{key}"] = value
    row["lithops_activation_id"] = activation_id(future)
    return row


def activation_id(future: Any) -> str | None:
    """The id of the invocation that ran the call (on Lambda, its request id: the REPORT line's).

    Lithops 3.8 keeps it on the future and in its call status, not in ``future.stats``; a call
    that never reported has none. Activations of one worker (``chunksize`` > 1) share it."""
    found = getattr(future, "activation_id", None)
    if not found:
        found = (getattr(future, "_call_status", None) or {}).get("activation_id")
    return str(found) if found else None


class LithopsEngine:
    """Map and reduce calls through Lithops' ``FunctionExecutor`` on the profile's backend and store."""

    name = "lithops"

    def __init__(
        self,
        store: Any,
        backend: dict[str, Any],
        expected: dict[str, Expected],
        *,
        emulate: bool = True,
        concurrency: int = 0,
        scratch_prefix: str = "runs/",
        retries: int = 0,
        warm: bool = True,
        keep_alive_s: float = 600.0,
        service_dir: Path | None = None,
        network: Any = None,
        fetch_threads: int | None = None,
    ):
        from aqbench.engines.fetch import FETCH_THREADS

        self.store, self.backend, self.expected, self.emulate = store, backend, expected, emulate
        self.fetch_threads = FETCH_THREADS if fetch_threads is None else fetch_threads
        """Partials a reducer fetches at once (Lithops' reducer: 64)."""
        self.concurrency, self.scratch_prefix, self.retries = concurrency, scratch_prefix, retries
        self.platform = platform_for(backend)
        self.warm = warm and self.platform.on_host
        self.keep_alive_s, self.service_dir, self.network = keep_alive_s, service_dir, network
        self.service: Any = None
        self.architecture = self.platform.architecture
        """What each call is priced as (an emulated call is priced as x86_64, Lambda's default)."""
        self.runs: list[RunResult] = []
        """Every run this engine started, finished or not: what the budget's ledger charges."""

    def _service(self, emulating: bool) -> Any:
        """The emulated Lambda service (started at the first run; warm environments live in it)."""
        if self.service is None:
            from aqbench.emulated.service import LambdaService

            where = self.service_dir or Path(os.environ.get("TMPDIR", "/tmp")) / "aqbench-lambda"
            self.service = LambdaService(where, self.keep_alive_s, emulate=emulating, network=self.network)
            self.runtime = str(self.service.start())
        return self.service

    def close(self) -> None:
        """End the warm environments: none outlives the experiment."""
        if self.service is not None:
            self.service.close()
            self.service = None

    def emulates(self, cfg: RunConfig) -> bool:
        return self.platform.emulates(self.emulate)

    def provenance(self) -> dict[str, Any]:
        available, why = cgroups.available()
        return {
            "backend": self.platform.name,
            "warm_environments": self.warm,
            "keep_alive_s": self.keep_alive_s if self.warm else None,
            "network_emulated": bool(self.service and self.service.shaping),
            "network": dataclasses.asdict(self.network) if self.network is not None else None,
            "lambda_emulation_requested": self.emulate,
            "lambda_emulation_available": available,
            "lambda_emulation_why_not": why,
        }

    def _warm_up(self, run: RunResult, phase: Any, fn: Any, base: dict[str, Any], chunks: list[list[str]]) -> bool:
        """The study's warm-up job: every object of the run, one an activation, two activations a
        worker (``fexec.map(day_average_map, objs, chunksize=2)``), its outputs discarded.

        Its workers start the environments the measured job then finds warm; their rows
        (phase ``warmup``) show the cold starts. False if a warm-up call failed.
        """
        keys = [k for chunk in chunks for k in chunk]
        tasks = [
            base
            | {"phase": "warmup", "call": i, "keys": [key], "prefix": f"{base['prefix']}warmup/"}
            | {"expect": {key: self.expected[key]}}
            for i, key in enumerate(keys)
        ]
        phase(fn, tasks, "warmup", run.config.timeout_s + PHASE_SLACK_S, chunksize=WARMUP_CHUNKSIZE)
        return _phase_ok(run)

    def execute(self, run: RunResult, chunks: list[list[str]], faults: Faults) -> list[bytes] | None:
        """Map calls, then one reduce call per partition; the reducers' partials."""
        import lithops

        from aqbench.engines.lithops.calls import map_call, reduce_call

        self.runs.append(run)
        cfg, emulating = run.config, run.emulated
        conc = self.concurrency or (cgroups.max_concurrency(cfg.memory_mb) if emulating else (os.cpu_count() or 1))
        chunked = max(cfg.chunksize, WARMUP_CHUNKSIZE if cfg.warmup else 1)
        local = self.platform.on_host
        if chunked > 1 and local and not self.warm:
            raise ConfigError(
                "a chunksize above 1 (or a warm-up) on the localhost backend needs warm environments, "
                "which run a worker's activations in sequence: set lithops.warm_environments: true"
            )
        # localhost: every activation of `conc` workers in flight, the service runs each worker's in turn
        objects = sum(len(c) for c in chunks)
        processes = min(conc * chunked, max(conc, objects)) if local else conc
        config = lithops_config(
            self.backend, self.store.lithops_storage_config(), cfg.memory_mb, cfg.timeout_s, processes
        )
        service = None
        if self.warm:
            service = self._service(emulating)
            # places: Lambdas at once (the host's share); the timeout counts per worker, as Lambda's
            service.use_function(cfg.memory_mb, cfg.locality, places=conc, timeout_s=cfg.timeout_s)
            config["localhost"]["runtime"] = self.runtime
        base = {
            "bucket": self.store.bucket,
            "prefix": f"{self.scratch_prefix}{run.run_id}/",
            "kernel": cfg.kernel,
            "reducers": cfg.reducers,
            "memory_mb": cfg.memory_mb,
            # where Lambda's limits are applied: by the environment (sized when it started), by the call, or not
            "limits": "environment" if service is not None else ("call" if emulating else "none"),
            "run": run.run_id,
            "timeout_s": cfg.timeout_s,
            "threads": self.platform.cores_per_call(emulating, cfg.memory_mb, conc) >= 2,
        }
        map_tasks = [
            base
            | {"phase": "map", "call": i, "keys": chunk, "fault": faults.map_fault(i, len(chunks))}
            | {"expect": {k: self.expected[k] for k in chunk}}
            for i, chunk in enumerate(chunks)
        ]
        run.started = time.perf_counter()
        fexec = lithops.FunctionExecutor(config=config)
        phase = functools.partial(
            _run_phase,
            fexec,
            run=run,
            emulating=emulating,
            service=service,
            architecture=self.architecture,
            retries=self.retries,
            poll=config["lithops"].get("monitoring_interval"),
        )
        try:
            if cfg.warmup and not self._warm_up(run, phase, map_call, base, chunks):
                return None
            run.started = time.perf_counter()  # the measured job's clock
            during = faults.during_maps(self.store)
            maps = phase(
                map_call, map_tasks, "map", cfg.timeout_s + PHASE_SLACK_S, during=during, chunksize=cfg.chunksize
            )
            if not _phase_ok(run):
                return None
            run.bytes = sum(r["bytes_read"] for r in maps)
            partition_keys = [[r["outputs"][p][0] for r in maps] for p in range(cfg.reducers)]
            red_tasks = [base | {"phase": "reduce", "call": p, "keys": k, "fetch_threads": self.fetch_threads}
                         for p, k in enumerate(partition_keys)]  # fmt: skip
            reds = phase(reduce_call, red_tasks, "reduce", cfg.timeout_s + PHASE_SLACK_S)
            if not _phase_ok(run):
                return None
            return [self.store.get(r["outputs"][0][0]) for r in reds]
        finally:
            self.platform.after_run(fexec, run)
            try:
                fexec.clean(clean_cloudobjects=True, clean_fn=True)
            except Exception as exc:  # cleaning is best effort; the run's outcome is already known
                log.debug("lithops clean failed: %s", exc)
            cgroups.cleanup(run.run_id)


def _run_phase(
    fexec: Any,
    fn: Any,
    tasks: list[dict[str, Any]],
    phase: str,
    seconds: float,
    *,
    run: RunResult,
    emulating: bool,
    retries: int,
    poll: float | None,
    service: Any = None,
    architecture: str = "x86_64",
    during: Any = None,
    chunksize: int = 1,
) -> list[Any]:
    """Run one phase's calls (activations, ``chunksize`` to a worker); resubmit the failed ones up
    to ``retries`` times.

    Every attempt leaves a row (status, attempt, its worker and position); a timeout is a data
    point, never retried. Returns each call's last result: its result dict, or the exception
    that ended it.
    """
    results: dict[int, Any] = {}
    pending = tasks
    for attempt in range(retries + 1):
        pending = [t | {"attempt": attempt} for t in pending]
        futures = fexec.map(fn, [{"task": t} for t in pending], chunksize=chunksize)
        try:
            if during is not None and attempt == 0:
                during()
            _wait(fexec, futures, seconds, poll)
        except BaseException:  # interrupted: the invoked calls still run, and are billed (the ledger's rows)
            for index, task in enumerate(pending):
                row = run.call_row(phase, task["call"], status="interrupted", worker=None, t_start=None, t_end=None)
                worker = f"{phase}-a{attempt}-w{index // chunksize}"
                row.update(architecture=architecture, attempt=attempt, retries=attempt, duration_s=None,
                           invocation=worker, position=index % chunksize)  # fmt: skip
                run.calls.append(row)
            raise
        retry = []
        for index, (future, task) in enumerate(zip(futures, pending, strict=True)):
            result = _result(future)
            record = _record(service, future)
            oom = record.oom if record is not None else _oom(run.run_id, task, emulating, result)
            row = _call_row(phase, future, result, task, run, oom)
            row["architecture"] = architecture
            # Lithops cuts a job's activations into workers of `chunksize`, in order
            row["invocation"] = f"{phase}-a{attempt}-w{index // chunksize}"
            row["position"] = index % chunksize
            if record is not None:  # where the call ran, from the service (failed calls cannot say)
                row.update(env_id=record.env_id, cold_start=record.cold, init_s=record.init_s or 0.0)
                row["t_dispatch"] = record.dispatched
                row["network_emulated"] = record.network_emulated
                if record.network_emulated:  # the call's own link, not the host's interfaces
                    row.update(net_recv_bytes=record.recv_bytes, net_sent_bytes=record.sent_bytes)
            row.update(attempt=attempt, retries=attempt)
            if not isinstance(result, dict):
                row["error"] = f"{type(result).__name__}: {result}"[:300]
            run.calls.append(row)
            results[task["call"]] = result
            if row["status"] not in ("success", *NOT_RETRIED):
                retry.append(task)
        if not retry:
            break
        log.warning(
            "%s: %d %s call(s) failed; attempt %d of %d", run.run_id, len(retry), phase, attempt + 2, retries + 1
        )
        pending = retry
    return [results[t["call"]] for t in tasks]


PHASE_SLACK_S = 120
"""How much longer than the call timeout the engine waits for a phase before it counts the calls
that did not report as failed. On Lambda a throttled invocation is dropped if it has not started
within as long (:data:`aqbench.aws.image.EVENT_MAX_AGE_S`), so none runs after being given up."""

WARMUP_CHUNKSIZE = 2
"""The study's warm-up, ``fexec.map(day_average_map, objs, chunksize=2)``: 1979 activations of
one ~25 MB object each (the whole dataset), two to a worker: 990 Lambdas."""


NOT_RETRIED = ("timeout", "checksum")
"""Outcomes a resubmission would only repeat: a timeout is a data point, a damaged object stays damaged."""


def _phase_ok(run: RunResult) -> bool:
    """False (and the run marked) if any call of the phase just run ended without a result (its rows say)."""
    last = {(c["phase"], c["call"]): c for c in run.calls}  # the last attempt of each call
    failed = [c for c in last.values() if c["status"] != "success"]
    if not failed:
        return True
    run.wall_s = time.perf_counter() - run.started
    run.status = "timeout" if all(c["status"] == "timeout" for c in failed) else "failed"
    run.note = "; ".join(
        f"{c['phase']} call {c['call']}: {c['status']} after {c['attempt'] + 1} attempt(s)"
        + (f" ({c['error']})" if c.get("error") else "")
        for c in sorted(failed, key=lambda c: (c["phase"], c["call"]))
    )
    return False


def _wait(fexec: Any, futures: list[Any], seconds: float, poll_s: float | None) -> None:
    """Wait for the calls; a call that never reports is recorded as failed, not a crash of the experiment.

    ``poll_s``: how often to look (Lithops' default, one second, is most of a phase here).
    """
    try:
        fexec.wait(futures, throw_except=False, show_progressbar=False, timeout=seconds, wait_dur_sec=poll_s)
    except TimeoutError as exc:
        log.warning("some calls did not report within %.0f s: %s", seconds, exc)


def _result(future: Any) -> Any:
    if not any(getattr(future, state, True) for state in ("done", "ready", "success", "error")):
        return TimeoutError("the call never reported")
    try:
        result = future.result(throw_except=False)
    except Exception as exc:  # a call that died leaves no result; its row says so
        return exc
    raised = getattr(future, "_exception", None)  # what the function raised, when it did
    if isinstance(raised, tuple) and len(raised) > 1 and isinstance(raised[1], BaseException):
        return raised[1]
    return result


def _record(service: Any, future: Any) -> Any:
    """The service's record of the call behind ``future`` (None without warm environments)."""
    if service is None:
        return None
    return service.record(future.executor_id, future.job_id, future.call_id)


def _oom(run_id: str, task: dict, emulating: bool, result: Any) -> bool:
    if not emulating or isinstance(result, dict):
        return False
    from aqbench.engines.lithops.calls import group_name

    return cgroups.was_oom_killed(run_id, group_name(task))
