"""A discrete-event simulation (SimPy) of one Lithops map-reduce job on AWS Lambda.

From the driver's first invoke to the last reducer's result, with the parts that decide a
job's wall time at scale and that a 2-core machine cannot show:

- the driver: Lithops' invoker (its measured invoke rate), ``max_workers`` (calls beyond it
  wait for a token, which its job monitor hands back for each finished call it *notices*
  at its storage polling interval), the job's set-up, each result's fetch;
- Lambda: a pool of execution environments per function (memory size), warm reuse, cold
  starts with their init, concurrency scaling (1,000 new environments per 10 s per function
  since late 2023, or the older regional burst) under the account's concurrency limit;
- each call: start latency, download at the environment's bandwidth, parse at the kernel's
  measured CPU-seconds per MB divided by the memory size's CPU share, S3 request latency,
  the 900 s timeout, billing per ms (with the init, billed since 2025-08);
- reducers: single or hash-partitioned, their fan-in and input from the partials' size, and
  their peak memory (a reducer needing more than its function's memory is killed).

The same model, with Lambda's scaling switched off and the driver's slots released at each
call's end (Lithops' localhost queue), is this host's emulation: that is how it is checked
against our own runs (:mod:`aqbench.scale.validate`) before it projects the study's scale.

One module (longer than most here): the simulation's processes (invoker, Lambda's scaling,
environments, calls, the job monitor) share one SimPy environment and its resources.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import simpy

from aqbench.lambda_facts import call_share, facts


@dataclass(frozen=True)
class SimPlatform:
    """Where the simulated job runs: Lambda (published facts) or this host's emulation (as configured).
    Not :class:`aqbench.engines.lithops.platforms.Platform`, the backend real calls run on."""

    max_workers: int
    """Lithops' max_workers (AWS) or worker_processes (the host's concurrency)."""
    release_on_notice: bool
    """AWS: a slot comes back when the job monitor's poll notices the finished call."""
    invokes_per_s: float
    """Lithops' invoker throughput (math.inf: every call handed over at once, as on localhost)."""
    poll_s: float
    """The job monitor's polling interval; 0: told of each finished call at once (a Dask scheduler,
    to which workers report), no polling."""
    cold_init_s: float
    warm_start_s: float
    """Invoke to function start on an idle (warm) environment."""
    net_mb_s: float
    """Download/upload rate of one environment."""
    request_s: float
    """Latency added to every S3 request a call makes (0 where the calibration's per-call time holds it)."""
    mb_per_vcpu: float = field(default_factory=lambda: facts().mb_per_vcpu)
    max_cores: float = 6
    """Visible cores: the most CPU share a multi-threaded call gets."""
    timeout_s: float = field(default_factory=lambda: facts().timeout_s)
    scale_per_10s: int | None = 1000
    """New environments per function every 10 s; None: no ramp (the host)."""
    account_concurrency: int | None = 1000
    legacy_burst: int | None = None
    """The pre-2023 rule instead: this first-minute regional burst, then ``legacy_per_minute``."""
    legacy_per_minute: int = 500
    warm_envs: int = 0
    """Environments already warm when the job starts."""
    init_billed: bool = True
    list_page_s: float = 0.0
    """One page (1,000 keys) of the job monitor's listing of the job's prefix, which holds an init
    object per started call and a status object per finished one (Lithops 3.8
    ``Storage.get_job_status``): the lag before a finished call is noticed grows with the calls
    started and finished (0: a local listing, as on this host)."""
    arm64_speed: float = 1.0
    """How fast an arm64 call parses against an x86 one (the CPU part of a call is divided by it)."""

    def share(self, memory_mb: int, threaded: bool = True) -> float:
        return call_share(memory_mb, self.max_cores if threaded else 1.0, self.mb_per_vcpu)

    def allowed(self, t: float) -> float:
        """Concurrent environments Lambda allows ``t`` seconds into the job."""
        cap = math.inf if self.account_concurrency is None else self.account_concurrency
        if self.legacy_burst is not None:
            return min(cap, self.legacy_burst + self.legacy_per_minute * math.floor(t / 60))
        if self.scale_per_10s is None:
            return cap
        return min(cap, self.scale_per_10s * (1 + math.floor(t / 10)))


@dataclass(frozen=True)
class CallCost:
    """What one call does, measured on this build (see :mod:`aqbench.scale.calibration`)."""

    overhead_s: float
    """Time of a call besides its data: the function's own fixed part and Lithops' wrapper."""
    map_cpu_s_per_mb: float
    reduce_cpu_s_per_mb: float
    partial_mb_per_input_mb: float
    job_setup_s: float
    """Driver: serialising and uploading a job before its first invoke."""
    result_s: float
    """Driver: fetching one call's result once noticed."""
    final_s: float
    """Driver: fetching the reducers' outputs and finishing, after the reduce job."""
    reduce_base_mb: float = 0.0
    reduce_mb_per_input_mb: float = 0.0
    """A reducer's peak memory: base + this × MB of partials it merges (0: not modelled)."""
    threaded: bool = True
    """Whether the map parses on several cores where the memory size gives them (the arrow kernel;
    the seed and study kernels are single-threaded pandas)."""


@dataclass(frozen=True)
class Variation:
    """What varies from one call to the next, drawn with a seeded generator (:func:`repeat`).

    ``map_factors`` and ``reduce_factors`` are quantiles (evenly spaced, 0 to 1) of the measured
    calls' time over the model's time for them (the calibration's residuals): each simulated
    call's time is the model's times a draw from them. Start latencies are drawn uniformly within
    their published range. Without a Variation every call is the model's, and a job has one
    answer."""

    map_factors: tuple[float, ...] = (1.0,)
    reduce_factors: tuple[float, ...] = (1.0,)
    cold_init_s: tuple[float, float] | None = None
    warm_start_s: tuple[float, float] | None = None
    warm_start_quantiles: Quantiles | None = None
    """Invoke to start of a warm call as published for a job of many invocations (its tail, not a
    range): drawn from these instead of ``warm_start_s`` where given."""
    read_factors: Quantiles | None = None
    """A call's S3 transfer time over the median call's, as published for a job of many functions
    reading at once: the stragglers. The slowest of N draws sets a phase's end, so the tail grows
    with the job's size without a rule of its own."""


@dataclass(frozen=True)
class Quantiles:
    """A published distribution by its quantiles: ``values[i]`` at probability ``probabilities[i]``
    (0 to 1, increasing); a draw interpolates between them (the inverse of its distribution)."""

    probabilities: tuple[float, ...]
    values: tuple[float, ...]

    def draw(self, rng: np.random.Generator) -> float:
        return float(np.interp(rng.random(), self.probabilities, self.values))


class _Draws:
    def __init__(self, variation: Variation | None, seed: int | None):
        self.v, self.rng = variation, np.random.default_rng(seed)
        self.quantiles = {}
        if variation is not None:  # the grids once, not once a call
            for phase, q in (("reduce", variation.reduce_factors), ("map", variation.map_factors)):
                self.quantiles[phase] = (np.linspace(0, 1, len(q)), np.asarray(q, dtype=float))

    def factor(self, phase: str) -> float:
        if self.v is None:
            return 1.0
        grid, q = self.quantiles["reduce" if phase == "reduce" else "map"]
        return float(np.interp(self.rng.random(), grid, q)) if len(q) > 1 else float(q[0])

    def first_poll(self, poll_s: float) -> float:
        """When the job monitor first polls: a poll interval after the job starts, or with variation
        at a uniformly drawn phase within it (when a call ends against the monitor's clock is chance)."""
        return poll_s if self.v is None else float(self.rng.uniform(0, poll_s))

    def start(self, cold: bool, default: float) -> float:
        if self.v is not None and not cold and self.v.warm_start_quantiles is not None:
            return self.v.warm_start_quantiles.draw(self.rng)
        span = None if self.v is None else (self.v.cold_init_s if cold else self.v.warm_start_s)
        return float(self.rng.uniform(*span)) if span else default

    def read(self) -> float:
        """A call's transfer time over the median call's (1 without published stragglers)."""
        if self.v is None or self.v.read_factors is None:
            return 1.0
        return self.v.read_factors.draw(self.rng)


@dataclass(frozen=True)
class JobSpec:
    objects: int
    object_mb: float
    objects_per_call: int
    memory_mb: int
    reducers: int = 1
    """Hash partitions of the reduce; 0: a map-only job (the study's warm-up)."""
    chunksize: int = 1
    """Activations (map calls of ``objects_per_call`` objects) per worker, one Lambda invocation
    that runs them in sequence: Lithops' ``map(..., chunksize=N)``."""
    fetch_threads: int = 64
    """Partials a reducer fetches at once (Lithops' reducer: 64; 1: one after another)."""
    architecture: str = "x86_64"
    """x86_64 or arm64 (priced at its rate; its calls' CPU part divided by SimPlatform.arm64_speed)."""
    fixed_s: float = 0.0
    """Seconds each map call works besides reading and parsing (a published job's stated work)."""


@dataclass
class Call:
    phase: str
    index: int
    mb: float
    requests: int
    cpu_s_per_mb: float
    activations: int = 1
    """Activations this invocation runs in sequence, each with the call's fixed part."""
    parallel: int = 1
    """Requests the call has in flight at once: each wave of them pays one first-byte latency."""
    serial_requests: int = 0
    """Requests made one after another besides (a reducer's one PUT of its result)."""
    fixed_s: float = 0.0
    """Work of a known duration besides (a published job whose functions compute for a stated time)."""
    invoked: float = math.nan
    start: float = math.nan
    end: float = math.nan
    noticed: float = math.nan
    cold: bool = False
    status: str = "pending"
    billed_s: float = 0.0
    peak_mb: float = 0.0
    """Memory the call needs (0: within any size); over the function's memory it is killed."""
    init_s: float = 0.0


@dataclass
class SimResult:
    wall_s: float
    status: str
    calls: list[Call] = field(default_factory=list)
    cold_starts: int = 0
    peak_concurrency: int = 0
    seed: int | None = None

    @property
    def completed_s(self) -> float:
        """The job's completion time; NaN for a job a timeout or the memory limit stopped (it has none)."""
        return self.wall_s if self.status == "success" else math.nan

    def gb_seconds(self, memory_mb: int) -> float:
        return sum(c.billed_s for c in self.calls) * memory_mb / 1024


class _Lambda:
    """The function's execution environments: idle ones are reused, new ones start cold, within
    what Lambda's scaling allows at the time.

    Invocations Lambda cannot place yet wait in one queue, oldest first, and are admitted one by
    one when an environment frees up or the scaling step allows more. (Waking every waiting call
    at every change made a 2,000-call job a million wake-ups: 12 s a simulation instead of 0.1.)"""

    def __init__(self, env: simpy.Environment, platform: SimPlatform, draws: _Draws | None = None):
        self.env, self.p, self.draws = env, platform, draws or _Draws(None, None)
        self.idle = platform.warm_envs
        self.busy = 0
        self.peak = 0
        self.queue: deque[simpy.Event] = deque()
        self.ticking = False

    def _may_start(self) -> bool:
        return bool(self.idle) or self.busy + self.idle < self.p.allowed(self.env.now)

    def _take(self) -> bool:
        """Give a call an environment: an idle (warm) one if any, else a new (cold) one."""
        cold = not self.idle
        if not cold:
            self.idle -= 1
        self.busy += 1
        self.peak = max(self.peak, self.busy)
        return cold

    def _admit(self) -> None:
        while self.queue and self._may_start():
            self.queue.popleft().succeed(self._take())

    def _ticker(self):
        """While calls wait, look again at every scaling step (Lambda's allowance grows with time)."""
        while self.queue:
            step = 10 - self.env.now % 10 if self.p.legacy_burst is None else 60 - self.env.now % 60
            yield self.env.timeout(step)
            self._admit()
        self.ticking = False

    def run(self, call: Call, duration_s: float, memory_mb: int = 0):
        """An asynchronous invocation: queued inside Lambda until an environment may take it."""
        if not self.queue and self._may_start():
            cold = self._take()
        else:
            admitted = self.env.event()
            self.queue.append(admitted)
            if not self.ticking:
                self.ticking = True
                self.env.process(self._ticker())
            cold = yield admitted
        if cold:
            call.cold, delay = True, self.draws.start(True, self.p.cold_init_s)
        else:
            call.cold, delay = False, self.draws.start(False, self.p.warm_start_s)
        call.init_s = delay if call.cold else 0.0
        yield self.env.timeout(delay)
        call.start = self.env.now
        ran = min(duration_s, self.p.timeout_s)
        yield self.env.timeout(ran)
        call.end = self.env.now
        if memory_mb and call.peak_mb > memory_mb:
            call.status = "oom"  # Lambda kills it: the job has no completion time
        else:
            call.status = "success" if duration_s <= self.p.timeout_s else "timeout"
        billed = math.ceil(ran * 1000) / 1000
        call.billed_s = billed + (call.init_s if call.cold and self.p.init_billed else 0.0)
        self.busy -= 1
        self.idle += 1
        self._admit()


def call_seconds(
    call: Call, memory_mb: int, platform: SimPlatform, cost: CallCost, arm64: bool = False, read_factor: float = 1.0
) -> float:
    """A call's time in its environment: fixed part, requests, transfer (``read_factor`` times the
    median call's), and parse at its CPU share (on arm64, at ``platform.arm64_speed`` of the x86 speed)."""
    speed = platform.arm64_speed if arm64 else 1.0
    return (
        cost.overhead_s * call.activations
        + call.fixed_s
        + (math.ceil(call.requests / max(1, call.parallel)) + call.serial_requests) * platform.request_s
        + call.mb / platform.net_mb_s * read_factor
        + call.mb * call.cpu_s_per_mb / platform.share(memory_mb, cost.threaded or call.phase == "reduce") / speed
    )


def _phase(env: simpy.Environment, lam: _Lambda, p: SimPlatform, cost: CallCost, calls: list[Call], job: JobSpec):
    """One Lithops job: invoke within max_workers, notice finished calls at each poll (a listing
    that takes longer the more calls are in flight), fetch results."""
    yield env.timeout(cost.job_setup_s)
    slots = simpy.Container(env, capacity=p.max_workers, init=p.max_workers)
    ended: list[Call] = []
    reported = simpy.Store(env)  # poll_s == 0: each finished call reported at once
    waiting = {"left": len(calls), "invoked": 0}
    arm64 = job.architecture == "arm64"

    def one(call: Call):
        read = lam.draws.read()
        seconds = call_seconds(call, job.memory_mb, p, cost, arm64, read) * lam.draws.factor(call.phase)
        yield env.process(lam.run(call, seconds, job.memory_mb))
        if p.poll_s <= 0:
            yield reported.put(call)
        else:
            ended.append(call)
        if not p.release_on_notice:
            yield slots.put(1)

    def invoker():
        gap = 0.0 if math.isinf(p.invokes_per_s) else 1.0 / p.invokes_per_s
        for call in calls:
            yield slots.get(1)
            if gap:
                yield env.timeout(gap)
            call.invoked = env.now
            waiting["invoked"] += 1
            env.process(one(call))

    def told():
        # an event per finished call (a polling loop at a tiny interval would cost an event per interval)
        while waiting["left"]:
            call = yield reported.get()
            call.noticed = env.now
            waiting["left"] -= 1
            if p.release_on_notice:
                yield slots.put(1)

    def monitor():
        # each poll lists the job's prefix, 1,000 keys a page (an init key per started call, a status
        # key per finished one): what it finds is what had finished when it began
        noticed, wait = 0, lam.draws.first_poll(p.poll_s)
        while waiting["left"]:
            yield env.timeout(wait)
            wait = p.poll_s
            found = list(ended)
            del ended[: len(found)]
            keys = waiting["invoked"] + noticed + len(found)
            if p.list_page_s and keys:
                yield env.timeout(math.ceil(keys / 1000) * p.list_page_s)
            for call in found:
                call.noticed = env.now
                waiting["left"] -= 1
                noticed += 1
                if p.release_on_notice:
                    yield slots.put(1)

    env.process(invoker())
    yield env.process(told() if p.poll_s <= 0 else monitor())
    yield env.timeout(cost.result_s)


def simulate(
    job: JobSpec, platform: SimPlatform, cost: CallCost, variation: Variation | None = None, seed: int | None = None
) -> SimResult:
    """Run the job: map calls, then one reduce call per partition, then the driver's final step.

    A reducer fetches its partials ``fetch_threads`` at a time, as ``engines.lithops.calls.reduce_call``
    and Lithops' own reducer do: its fan-in is the number of map calls whatever the partitioning,
    and each wave of fetches pays one request's first-byte latency."""
    env = simpy.Environment()
    lam = _Lambda(env, platform, _Draws(variation, seed))
    n_maps = math.ceil(job.objects / job.objects_per_call)  # activations, each leaving its partials
    maps = []
    for i, first in enumerate(range(0, n_maps, job.chunksize)):  # one worker per chunk of activations
        acts = min(job.chunksize, n_maps - first)
        objs = min(acts * job.objects_per_call, job.objects - first * job.objects_per_call)
        # an object GET each, a partial PUT per reducer and activation
        requests = objs + acts * job.reducers
        maps.append(Call("map", i, objs * job.object_mb, requests, cost.map_cpu_s_per_mb, activations=acts,
                         fixed_s=job.fixed_s * acts))  # fmt: skip
    partial_mb = job.objects_per_call * job.object_mb * cost.partial_mb_per_input_mb / max(1, job.reducers)
    reds = [Call("reduce", r, n_maps * partial_mb, n_maps, cost.reduce_cpu_s_per_mb, parallel=job.fetch_threads,
                 serial_requests=1) for r in range(job.reducers)]  # fmt: skip
    for red in reds:  # a reducer merges every partial in memory: it needs memory in step with their bytes
        if cost.reduce_mb_per_input_mb:
            red.peak_mb = cost.reduce_base_mb + cost.reduce_mb_per_input_mb * red.mb
    outcome = {"status": "success"}

    def driver():
        for calls in (maps, reds):
            if not calls:
                continue
            yield env.process(_phase(env, lam, platform, cost, calls, job))
            failed = [c.status for c in calls if c.status != "success"]
            if failed:
                outcome["status"] = failed[0]  # timeout or oom: the driver stops at the first failed phase
                return
        yield env.timeout(cost.final_s)

    env.process(driver())
    env.run()
    calls = [c for c in maps + reds if c.status != "pending"]
    return SimResult(env.now, outcome["status"], calls, sum(c.cold for c in calls), lam.peak, seed)


SEEDS = 20
"""Repetitions of a job with variation: its answer is their median and 10th-90th percentiles."""


def repeat(
    job: JobSpec, platform: SimPlatform, cost: CallCost, variation: Variation | None, seeds: int = SEEDS, seed: int = 0
) -> list[SimResult]:
    """The job simulated ``seeds`` times, with seeds ``seed``, ``seed + 1``, ...: same seed, same
    answer; without a variation one run says it all."""
    if variation is None:
        return [simulate(job, platform, cost)]
    return [simulate(job, platform, cost, variation, seed + i) for i in range(seeds)]


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """(10th, 50th, 90th) percentile; NaN where no run gave a value."""
    finite = [v for v in values if v == v]
    if not finite:
        return (math.nan, math.nan, math.nan)
    p10, p50, p90 = np.percentile(finite, [10, 50, 90])
    return float(p10), float(p50), float(p90)
