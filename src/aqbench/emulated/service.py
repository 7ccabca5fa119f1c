"""Warm and cold Lambda execution environments behind Lithops' own localhost backend.

Why this shape: Lithops' localhost backend (v2, the default) runs every call as a fresh
interpreter (``<runtime> <runner> run_job <task file>``), so every call was a cold start;
its v1 forks calls from one runner per job, so nothing stays warm between jobs either.
Lambda keeps an execution environment for minutes after a call and gives it the next call
of the same function. So Lithops stays the engine (``FunctionExecutor``, futures, its
statistics, its invoker and its concurrency), and only its ``runtime`` changes: a tiny
shell script that hands the task file to this service and waits for the call to end. The
service keeps, per function (memory size), idle environments (:mod:`.environment`
processes) for ``keep_alive_s``; a call takes an idle one (warm) or starts one (cold: a
real process start, imports and first Arrow call, its ``init_s`` recorded). An environment
serves one call at a time; one whose call was killed by its memory limit is discarded; at
most as many exist per function as calls run at once (Lithops' ``worker_processes``).

Lithops' ``chunksize`` (activations per worker, one Lambda invocation running them in turn):
the service gives a worker's activations one environment, one after another, and admits at
most the host's share of workers at once, in worker order. Lambda's timeout applies to the
whole invocation: the service gives each activation the deadline of its worker (the moment its
first activation's environment was ready, INIT not counted, plus the function's timeout), and an
activation still running at it, or reached after it, ends as a timeout, as the study's run of
1099 activations in one Lambda did.

The service lives in the experiment's process and ends with it (:meth:`close`): its
environments serve every run of the experiment (its repetitions and configurations of one memory
size find them warm), and none outlives the experiment. A driver killed with SIGKILL leaves its
environments behind: the next service in the same state folder kills those (their pids are
recorded there, with the owner's pid) before it starts, and only those.

One module (longer than most here): the service's places, workers' turns and deadlines are one
state under one lock and one condition; split across modules, the locking would be too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aqbench.emulated import cgroups
from aqbench.emulated import network as lambda_network
from aqbench.emulated.network import Network
from aqbench.lambda_facts import facts

log = logging.getLogger(__name__)

WORKER_SITE = Path(__file__).with_name("worker_site")
"""The folder every environment has first on its PYTHONPATH (whoever started the service)."""

SHIM = """#!/bin/sh
# Lithops' localhost "runtime" for aqbench: a call is served by a warm or cold emulated
# Lambda environment of the service in {dir} (see aqbench/emulated/service.py).
if [ "$2" != run_job ]; then exec {python} "$@"; fi
reply={dir}/reply.$$
mkfifo "$reply" || exit 3
printf '%s %s %s\\n' "$3" "$reply" "$$" > {dir}/requests
read status < "$reply"
rm -f "$reply"
exit "${{status:-4}}"
"""


@dataclass
class Environment:
    """One execution environment: its process, its control pipes, its init time and link."""

    function: tuple[int, str]
    id: str
    process: subprocess.Popen
    control_in: Any
    control_out: Any
    init_s: float = 0.0
    idle_since: float = field(default_factory=time.monotonic)
    link: Any = None

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class CallRecord:
    """What the service knows of one call: where it ran and how it ended."""

    env_id: str
    cold: bool
    init_s: float | None
    oom: bool = False
    env_lost: bool = False
    network_emulated: bool = False
    recv_bytes: int | None = None
    sent_bytes: int | None = None
    dispatched: float = 0.0
    """When the call reached the service: Lithops' queue (calls beyond the host's concurrency
    wait there, where Lambda would scale out) is behind it, the environment ahead of it."""


class LambdaService:
    """Emulated Lambda functions: environments kept warm between jobs, started cold when none is idle."""

    def __init__(
        self, state_dir: Path, keep_alive_s: float = 600.0, emulate: bool = True, network: Network | None = None
    ):
        self.dir = Path(state_dir).resolve()
        self.keep_alive_s, self.emulate = keep_alive_s, emulate
        self.network = network or Network(shape=False)
        self.shaper: lambda_network.Shaper | None = None
        self.function: tuple[int, str] = (1769, "local")
        self.records: dict[tuple[str, str, str], CallRecord] = {}
        self._idle: dict[tuple[int, str], list[Environment]] = {}
        self._all: list[Environment] = []
        self._lock = threading.Lock()
        self._count = 0
        self._reader: threading.Thread | None = None
        self._closed = False
        self.group_root = f"svc-{os.getpid()}"
        # Lithops' chunksize: one worker (invocation) runs its chunk's activations in sequence, and
        # at most `places` workers run at once, admitted in their order (Lithops' queue is FIFO)
        self._turns = threading.Condition()
        self._next: dict[tuple[str, str, int], int] = {}  # worker -> the position whose turn it is
        self._held: dict[tuple[str, str, int], Environment | None] = {}  # its environment between turns
        self._admit: dict[tuple[str, str], int] = {}  # job -> the next worker to admit
        self._holding: set[tuple[str, str, int]] = set()  # workers holding a place
        self._free: float = math.inf
        self.timeout_s: float | None = None  # the function's timeout, per invocation (None: none)
        self._began: dict[tuple[str, str, int], float] = {}  # worker -> its first activation's dispatch

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> Path:
        """Clear what a killed predecessor left, open the request pipe; the shim Lithops runs."""
        clear_stale(self.dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.network.shape:
            ok, why = lambda_network.available()
            if ok:
                self.shaper = lambda_network.Shaper(os.getpid())
            else:
                log.warning("network emulation unavailable (%s): calls run unshaped", why.strip())
        owner = {"pid": os.getpid(), "groups": self.group_root, "prio": self.shaper.prio if self.shaper else None}
        (self.dir / "owner.json").write_text(json.dumps(owner))
        requests = self.dir / "requests"
        requests.unlink(missing_ok=True)
        os.mkfifo(requests)
        shim = self.dir / "lambda-runtime"
        shim.write_text(SHIM.format(dir=self.dir, python=sys.executable))
        shim.chmod(0o755)
        # O_RDWR: the pipe never reports end-of-file while the service lives, whoever writes
        self._requests = os.fdopen(os.open(requests, os.O_RDWR), "r", buffering=1)
        self._reader = threading.Thread(target=self._serve, name="aqbench-lambda-service", daemon=True)
        self._reader.start()
        return shim

    @property
    def shaping(self) -> bool:
        return self.shaper is not None

    def use_function(
        self, memory_mb: int, locality: str = "local", places: int | None = None, timeout_s: float | None = None
    ) -> None:
        """The function the next calls belong to (memory size, and where its data is): one run has
        one. ``places``: how many workers may run at once (None: as many as Lithops sends);
        ``timeout_s``: Lambda's timeout, which counts from a worker's first activation."""
        self.function, self.timeout_s = (memory_mb, locality), timeout_s
        with self._turns:
            self._free = math.inf if places is None else places - len(self._holding)
        self._expire()

    def close(self) -> None:
        """End every environment and remove the service's groups and files."""
        self._closed = True
        with self._lock:
            envs, self._all, self._idle = list(self._all), [], {}
        for env in envs:
            _stop(env)
        if self.shaper is not None:
            self.shaper.close()
        cgroups.cleanup(self.group_root)
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- serving calls --------------------------------------------------------------------

    def _serve(self) -> None:
        for line in self._requests:
            if self._closed:
                return
            parts = line.split()
            if len(parts) == 3:
                # a shim waits on its reply: if this service dies, the next one ends it (clear_stale)
                self._record_pid(int(parts[2]))
                threading.Thread(target=self._call, args=parts[:2], daemon=True).start()

    def _call(self, task_file: str, reply: str) -> None:
        status = 4
        worker, position, last, env, handed = None, 0, True, None, False
        try:
            with open(task_file) as fh:
                payload = json.load(fh)
            key = (payload["executor_id"], payload["job_id"], payload["call_ids"][0])
            worker, position, last = _place(payload)
            deadline = time.monotonic() + float(payload.get("execution_timeout") or facts().timeout_s)
            env, cold, dispatched = self._take(worker, position, deadline)
            record = CallRecord(env.id, cold, env.init_s if cold else None, network_emulated=env.link is not None)
            record.dispatched = dispatched
            self.records[key] = record
            before = lambda_network.Shaper.counters() if env.link is not None else {}
            # Lambda's timeout does not count INIT: the invocation's clock starts once its environment is ready
            env.control_in.write(f"{task_file} {self._deadline(worker, time.time())}\n")
            env.control_in.flush()
            answer = env.control_out.readline()
            if env.link is not None:  # the environment serves one call at a time: the deltas are the call's
                after = lambda_network.Shaper.counters()
                record.recv_bytes = after.get(env.link.download, 0) - before.get(env.link.download, 0)
                record.sent_bytes = after.get(env.link.upload, 0) - before.get(env.link.upload, 0)
            status = int(answer) if answer.strip() else 4
            record.oom = self._oom_since(env)
            record.env_lost = not answer or not env.alive()
            self._give_back(worker, position, last, env, discard=record.oom or record.env_lost)
            handed = True
        except Exception as exc:  # the call fails, visibly, and the service goes on
            log.warning("lambda service: a call could not be served: %r", exc)
        finally:
            if not handed:  # the next activation of its chunk must not wait for it forever
                self._give_back(worker, position, last, env, discard=True)
            try:
                with open(reply, "w") as fh:
                    fh.write(f"{status}\n")
            except OSError as exc:
                log.debug("lambda service: no one waits for %s: %s", reply, exc)

    def _deadline(self, worker: tuple[str, str, int], ready: float) -> float:
        """When the activation's invocation times out (epoch seconds; 0: no timeout): the time its
        worker's first activation had its environment ready (INIT is not counted, as on Lambda)
        plus the function's timeout, for every activation of the worker. Workers are named by
        executor, job and index: a later run's are new ones."""
        if not self.timeout_s:
            return 0.0
        return self._began.setdefault(worker, ready) + self.timeout_s

    def _take(self, worker: tuple[str, str, int], position: int, deadline: float) -> tuple[Environment, bool, float]:
        """The environment for an activation, and when it got it (its dispatch).

        A worker's first activation waits for a place (at most ``places`` workers at once, taken
        in worker order, so the workers Lithops has in flight are the ones admitted) and acquires
        an environment; each later one waits for the activation before it in the chunk, then
        runs in the same environment. A wait past ``deadline`` (the call's execution timeout: an
        activation that never reached the service) is logged and ends, so nothing waits forever."""
        with self._turns:
            if position == 0:
                job = worker[:2]
                while not (self._admit.get(job, 0) >= worker[2] and self._free > 0):
                    if not self._wait(deadline):
                        log.warning("lambda service: worker %s admitted after waiting past its deadline", worker)
                        break
                self._admit[job] = max(self._admit.get(job, 0), worker[2] + 1)
                self._holding.add(worker)
                self._free -= 1
                env = None
            else:
                while self._next.get(worker, 0) < position:
                    if not self._wait(deadline):
                        log.warning("lambda service: activation %d of %s ran without its predecessor", position, worker)
                        break
                env = self._held.pop(worker, None)
        dispatched = time.time()
        if env is not None and env.alive():
            return env, False, dispatched
        return (*self._acquire(self.function), dispatched)  # the first activation, or its environment died

    def _wait(self, deadline: float) -> bool:
        """Wait for a change of turns (the condition held); False once ``deadline`` has passed."""
        left = deadline - time.monotonic()
        return left > 0 and (self._turns.wait(timeout=left) or time.monotonic() < deadline)

    def _give_back(
        self, worker: tuple[str, str, int] | None, position: int, last: bool, env: Environment | None, discard: bool
    ) -> None:
        """After an activation: the environment goes on to the chunk's next activation, or back to
        the pool after the last (or is discarded: the next activation then starts one); the
        worker's place is freed after its last."""
        if env is not None and (last or discard):
            self._release(env, discard)
        if worker is None:
            return
        with self._turns:
            if last:
                self._next.pop(worker, None)
                self._held.pop(worker, None)
                if worker in self._holding:
                    self._holding.discard(worker)
                    self._free += 1
            else:
                self._held[worker] = None if discard else env
                self._next[worker] = position + 1
            self._turns.notify_all()

    def _acquire(self, function: tuple[int, str]) -> tuple[Environment, bool]:
        with self._lock:
            idle = self._idle.setdefault(function, [])
            while idle:
                env = idle.pop()
                if env.alive():
                    return env, False
                self._all.remove(env)
            self._count += 1
            number = self._count
        return self._start_env(function, number), True

    def _release(self, env: Environment, discard: bool) -> None:
        if discard or self._closed:
            with self._lock:
                if env in self._all:
                    self._all.remove(env)
            _stop(env)
            return
        env.idle_since = time.monotonic()
        with self._lock:
            self._idle.setdefault(env.function, []).append(env)

    def _expire(self) -> None:
        """End environments idle for longer than the keep-alive window, as Lambda reclaims them."""
        now = time.monotonic()
        with self._lock:
            expired = [e for envs in self._idle.values() for e in envs if now - e.idle_since > self.keep_alive_s]
            for env in expired:
                self._idle[env.function].remove(env)
                self._all.remove(env)
        for env in expired:
            _stop(env)

    def _start_env(self, function: tuple[int, str], number: int) -> Environment:
        """A cold start: a new process that initialises itself, then says it is ready."""
        memory_mb, locality = function
        group = f"{self.group_root}/env-{number}"
        spawned = time.time()
        to_env_r, to_env_w = os.pipe()
        from_env_r, from_env_w = os.pipe()
        env_vars = dict(os.environ)
        site = str(WORKER_SITE)  # its sitecustomize: every S3 connection closed after its response
        if site not in env_vars.get("PYTHONPATH", "").split(os.pathsep):
            env_vars["PYTHONPATH"] = os.pathsep.join(p for p in (site, env_vars.get("PYTHONPATH", "")) if p)
        remote = locality == "remote"
        link = None
        if self.shaper is not None:
            mbit = self.network.remote_mbit if remote else self.network.local_mbit
            link = self.shaper.add(number, mbit)
            with open(self.dir / "classes", "a") as fh:
                fh.write(f"{link.download} {link.upload}\n")
            env_vars["AQBENCH_SOURCE_ADDRESS"] = link.address
        if remote:  # the cross-region delay before each request's first byte, in the storage client
            env_vars["AQBENCH_REQUEST_DELAY_S"] = str(self.network.remote_delay_s)
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aqbench.emulated.environment",
                str(memory_mb),
                "1" if self.emulate else "0",
                group,
                repr(spawned),
                str(self.dir / f"env-{number}.log"),
                str(to_env_r),
                str(from_env_w),
            ],
            pass_fds=(to_env_r, from_env_w),  # kept at these numbers in the child
            stdin=subprocess.DEVNULL,
            env=env_vars,
            start_new_session=True,
        )
        os.close(to_env_r)
        os.close(from_env_w)
        env = Environment(
            function,
            f"env-{number}",
            process,
            os.fdopen(to_env_w, "w", buffering=1),
            os.fdopen(from_env_r, "r", buffering=1),
            link=link,
        )
        self._record_pid(process.pid)
        ready = env.control_out.readline()
        if not ready:
            _stop(env)
            raise RuntimeError(f"environment {env.id} died during its initialisation (see {self.dir}/env-*.log)")
        info = json.loads(ready)
        env.init_s = info["init_s"]
        with self._lock:
            self._all.append(env)
        return env

    def _record_pid(self, pid: int) -> None:
        with open(self.dir / "pids", "a") as fh:
            fh.write(f"{pid}\n")

    def _oom_since(self, env: Environment) -> bool:
        return bool(self.emulate) and cgroups.was_oom_killed(self.group_root, env.id)

    def record(self, executor_id: str, job_id: str, call_id: str) -> CallRecord | None:
        return self.records.get((executor_id, job_id, call_id))


def _stop(env: Environment) -> None:
    for stream in (env.control_in, env.control_out):
        with contextlib.suppress(OSError):
            stream.close()
    if env.alive():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(env.process.pid, signal.SIGKILL)
    env.process.wait()


def _place(payload: dict[str, Any]) -> tuple[tuple[str, str, int], int, bool]:
    """An activation's worker, its position in the worker's chunk, and whether it is the chunk's
    last, as Lithops' invoker cuts a job's call ids into chunks of ``chunksize`` in order (a
    chunksize of one: every activation a worker of its own)."""
    chunksize = max(1, int(payload.get("chunksize") or 1))
    call = int(payload["call_ids"][0])
    position = call % chunksize
    last = position == chunksize - 1 or call == int(payload["total_calls"]) - 1
    return (payload["executor_id"], payload["job_id"], call // chunksize), position, last


def clear_stale(state_dir: Path, alive: Callable[[int], bool] | None = None) -> list[int]:
    """Kill the environments of a dead service in this state folder, and remove its groups.

    Only a folder whose owner is dead is touched: a live service is never disturbed.
    Returns the pids killed.
    """
    alive = alive or _pid_alive
    owner_file = Path(state_dir) / "owner.json"
    if not owner_file.exists():
        return []
    owner = json.loads(owner_file.read_text())
    if alive(int(owner["pid"])):
        raise RuntimeError(f"{state_dir} belongs to a running experiment (pid {owner['pid']})")
    killed = []
    pids = Path(state_dir) / "pids"
    for text in pids.read_text().split() if pids.exists() else []:
        try:
            os.killpg(int(text), signal.SIGKILL)
            killed.append(int(text))
        except (ProcessLookupError, PermissionError):
            pass
    time.sleep(0.1 if killed else 0)
    cgroups.cleanup(owner["groups"])
    classes = Path(state_dir) / "classes"
    if owner.get("prio") is not None:
        lambda_network.remove_dead(int(owner["prio"]), classes.read_text().split() if classes.exists() else [])
    shutil.rmtree(state_dir, ignore_errors=True)
    return killed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
