"""The functions Lithops runs remotely (in a Lambda, or a local process emulating one).

They only read objects, call the kernel, and write partials; everything they measure
comes back in their result next to Lithops' own per-call statistics.
"""

from __future__ import annotations

import os
import resource
import signal
import time
from typing import Any

from aqbench import procstat
from aqbench.engines.work import map_objects
from aqbench.kernels import get_kernel


class InjectedFault(Exception):
    """A failure the profile's ``faults`` section asked for (reliability tests)."""


def _inject(task: dict[str, Any], when: str) -> None:
    """Fail this call as the task's fault says, on its first attempt only (a transient fault).

    ``raise`` fails at the start; ``kill`` (SIGKILL), ``oom`` (allocating past the
    memory limit) and ``hang`` (a stall only the call's timeout ends) strike mid-way, after the
    first object is read.
    """
    fault = task.get("fault")
    if not fault or task.get("attempt", 0) > 0:
        return
    if fault == "raise" and when == "start":
        raise InjectedFault(f"injected failure in {task['phase']} call {task['call']}")
    if when != "mid-way":
        return
    if fault == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "hang":
        while True:  # the timeout's alarm raises CallTimeout out of this
            time.sleep(1)
    if fault == "oom":
        if task.get("limits", "none") == "none":  # no limit to exceed: fail as Lambda would report it
            raise MemoryError(f"injected: {task['phase']} call {task['call']} exceeded {task['memory_mb']} MB")
        hog = bytearray((task["memory_mb"] + 64) << 20)
        for i in range(0, len(hog), 4096):  # touch every page: resident, so the limit is crossed
            hog[i] = 1


class CallTimeout(Exception):
    """The call ran past its configured timeout (Lambda's hard limit, emulated)."""


def time_left(timeout_s: float | None, deadline: float, now: float | None = None) -> float | None:
    """Seconds this call may run: its own timeout, cut to what is left of its invocation's
    (``deadline``, epoch seconds, 0 for none: in an emulated environment the service sets it, as
    Lambda's timeout counts for the whole invocation, every activation of a chunk). A call reached
    after the deadline gets a moment, so it ends as a timeout at once. None: no limit."""
    if not deadline:
        return timeout_s or None
    left = max(0.001, deadline - (time.time() if now is None else now))
    return min(timeout_s, left) if timeout_s else left


_expired = False
"""Set when the alarm fired: libraries (botocore) may wrap the CallTimeout in their own errors."""


def _on_alarm(signum: int, frame: Any) -> None:
    global _expired
    _expired = True
    raise CallTimeout("call exceeded its timeout")


def _timed_out(exc: BaseException) -> bool:
    return isinstance(exc, CallTimeout) or _expired


def _client_closes_connections(storage: Any) -> None:
    """See aqbench.storage.s3: with keep-alive servers, forked workers mixed responses."""
    client = storage.get_client()
    meta = getattr(client, "meta", None)
    if meta is not None and not getattr(client, "_aqbench_close", False):
        from aqbench.storage.s3 import close_connections

        meta.events.register("before-send.s3", close_connections)
        client._aqbench_close = True


def _get_body(storage: Any, bucket: str, key: str, expect: Any) -> bytes | bytearray:
    """An input object, read straight into a writable buffer where the backend allows it,
    its length and CRC32C checked against the manifest as it streams in."""
    from aqbench.storage import read_exactly, verify

    client = storage.get_client()
    if not hasattr(client, "get_object"):  # a backend without a boto3-style client
        data = storage.get_object(bucket, key)
        verify(data, expect)
        return data
    response = client.get_object(Bucket=bucket, Key=key)
    return read_exactly(response["Body"], response.get("ContentLength"), expect)


def group_name(task: dict[str, Any]) -> str:
    """The resource group of one attempt of one call (a retry gets a fresh one)."""
    attempt = task.get("attempt", 0)
    return f"{task['phase']}-{task['call']}" + (f"-a{attempt}" if attempt else "")


def _start(task: dict[str, Any], storage: Any) -> tuple[dict[str, Any], float]:
    procstat.reset_peak()
    started = time.time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    info: dict[str, Any] = {
        "call": task["call"],
        "emulated": False,
        "t_start": started,
        "_cpu0": (usage.ru_utime, usage.ru_stime),
    }
    if task.get("limits") == "environment":  # a warm/cold environment, sized once when it started
        info["emulated"] = os.environ.get("AQBENCH_ENV_EMULATED") == "1"
    elif task.get("limits") == "call":  # a fresh process per call: this call enters its own groups
        from aqbench.emulated.cgroups import enter

        em = enter(task["memory_mb"], task["run"], group_name(task))
        info["emulated"] = em.emulated
    info["_timeout_s"] = task.get("timeout_s")
    _client_closes_connections(storage)
    import botocore.session

    # did worker_site/sitecustomize.py load before Lithops' own requests? (see its docstring)
    info["connection_close"] = bool(getattr(botocore.session.Session, "_aqbench_close", False))
    return info, started


def _arm(info: dict[str, Any]) -> None:
    """Start the call's timeout: first thing inside the call's ``try``, so that however soon the
    alarm fires (an activation reached after its invocation's deadline) it ends as a timeout."""
    deadline = float(os.environ.get("AQBENCH_INVOCATION_DEADLINE") or 0)
    seconds = time_left(info.pop("_timeout_s", None), deadline)
    if seconds is not None:
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)


def _finish(info: dict[str, Any], started: float) -> dict[str, Any]:
    signal.setitimer(signal.ITIMER_REAL, 0)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    user0, system0 = info.pop("_cpu0", (0.0, 0.0))
    info.update(
        t_end=time.time(),
        seconds=time.time() - started,
        peak_rss_mb=procstat.peak_rss_mb(),
        cpu_user_s=usage.ru_utime - user0,
        cpu_system_s=usage.ru_stime - system0,
        status="success",
    )
    return info


def map_call(task: dict[str, Any], storage: Any) -> dict[str, Any]:
    """Map the task's objects; write one partial per reducer; report what was read and written."""
    from aqbench.storage import ChecksumMismatch

    info, started = _start(task, storage)
    _inject(task, "start")
    try:
        _arm(info)
        timings: dict[str, float] = {}
        parts, bytes_read = map_objects(
            lambda key: _get_body(storage, task["bucket"], key, task["expect"][key]),
            task["keys"],
            task["kernel"],
            task["reducers"],
            task.get("threads", True),
            lambda: _inject(task, "mid-way"),
            timings,
        )
        written = []
        t0 = time.perf_counter()
        for r, data in enumerate(parts):
            key = f"{task['prefix']}map/{task['call']:05d}/r{r:03d}"
            storage.put_object(task["bucket"], key, data)
            written.append((key, len(data)))
        timings["partials_s"] = timings.get("partials_s", 0.0) + time.perf_counter() - t0
    except ChecksumMismatch as exc:  # never a wrong answer: the call ends, naming the object
        info.update(_finish(info, started), status="checksum", error=str(exc), objects=len(task["keys"]), outputs=[])
        info["bytes_read"] = 0
        return info
    except Exception as exc:
        if not _timed_out(exc):
            raise
        info.update(_finish(info, started), status="timeout", objects=len(task["keys"]), bytes_read=0, outputs=[])
        return info
    info = _finish(info, started)
    info.update(
        objects=len(task["keys"]),
        bytes_read=bytes_read,
        outputs=written,
        bytes_written=sum(n for _, n in written),
        **{f"time_{phase}": seconds for phase, seconds in timings.items()},
    )
    return info


def reduce_call(task: dict[str, Any], storage: Any) -> dict[str, Any]:
    """Merge one partition's partials from every map into one partial (fetched ``fetch_threads`` at a
    time, Lithops' 64 by default: :mod:`aqbench.engines.fetch`)."""
    info, started = _start(task, storage)
    kernel = get_kernel(task["kernel"])
    sizes: list[int] = []

    def parts():  # concurrently, as Lithops' reducer fetches, merged as they arrive
        from aqbench.engines.fetch import FETCH_THREADS, fetched

        threads = int(task.get("fetch_threads", FETCH_THREADS))
        for data in fetched(lambda key: storage.get_object(task["bucket"], key), task["keys"], threads):
            sizes.append(len(data))
            yield data

    try:
        _arm(info)
        data = kernel.reduce(parts())
        key = f"{task['prefix']}reduce/r{task['call']:03d}"
        storage.put_object(task["bucket"], key, data)
    except Exception as exc:
        if not _timed_out(exc):
            raise
        info.update(_finish(info, started), status="timeout", objects=0, bytes_read=sum(sizes), outputs=[])
        return info
    info = _finish(info, started)
    # a reducer's time is all partials
    info.update(objects=len(task["keys"]), bytes_read=sum(sizes), outputs=[(key, len(data))], bytes_written=len(data),
                time_partials_s=info["seconds"])  # fmt: skip
    return info
