"""Fault injection: the profile's ``faults`` section, for the reliability tests.

Each switch makes one thing go wrong in a real run, so the tests can check that the run
either completes with the reference's aggregates (through resubmission or the engine's own
retries) or fails naming the calls that failed — never a silently partial aggregate.
Faults strike a call's first attempt only, as transient failures do.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from aqbench.errors import ConfigError

log = logging.getLogger(__name__)
_events: list[str] = []
_events_lock = threading.Lock()


def drain_events() -> list[str]:
    """What the injected faults did since the last call (for the run's note)."""
    with _events_lock:
        done, _events[:] = list(_events), []
    return done + _killed_workers()


@dataclass(frozen=True)
class Faults:
    map_error_fraction: float = 0.0
    """Share of map calls that raise an exception."""
    kill_map_call: int = -1
    """Index of the map call killed with SIGKILL after reading its first object (-1: none)."""
    oom_map_call: int = -1
    """Index of the map call that allocates past its (emulated) memory limit (-1: none)."""
    hang_map_call: int = -1
    """Index of the map call that stalls after reading its first object until its timeout ends it (-1: none)."""
    restart_storage: bool = False
    """Kill the local S3 server while an experiment's first run's maps are running, and start it again."""
    kill_dask_worker: bool = False
    """Kill the Dask worker running an experiment's first run's first map task, mid-task (LocalCluster)."""
    delay_s: float = 0.5
    """How long after submission the storage or worker fault strikes."""

    @classmethod
    def from_json(cls, text: str | None) -> Faults:
        data = json.loads(text) if text else {}
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ConfigError(f"faults: unknown switches {sorted(unknown)}; allowed: {sorted(names)}")
        faults = cls(**data)
        if not 0.0 <= faults.map_error_fraction <= 1.0:
            raise ConfigError(f"faults.map_error_fraction must be within 0-1, got {faults.map_error_fraction}")
        return faults

    def active(self) -> dict[str, Any]:
        """The switches that are on (for the provenance record)."""
        default = Faults()
        return {k: v for k, v in asdict(self).items() if v != getattr(default, k) and k != "delay_s"}

    def for_run(self, index: int) -> Faults:
        """The faults of an experiment's run ``index``: the server and worker kills strike its first run only.

        Per-call faults (raising, killed, over-memory map calls) strike every run's first attempts.
        """
        return self if index == 0 else replace(self, restart_storage=False, kill_dask_worker=False)

    def map_fault(self, call: int, calls: int) -> str | None:
        """The fault of map call ``call`` of ``calls``: kill, oom, hang, raise or None.

        Raising calls are spread evenly: exactly round(fraction x calls) of them.
        """
        if call == self.kill_map_call:
            return "kill"
        if call == self.oom_map_call:
            return "oom"
        if call == self.hang_map_call:
            return "hang"
        f = self.map_error_fraction
        if f and int((call + 1) * f + 0.5) > int(call * f + 0.5):
            return "raise"
        return None

    def during_maps(self, store: Any) -> Callable[[], None] | None:
        """What to do once the first run's maps are submitted: restart the storage server."""
        if not self.restart_storage:
            return None
        server = getattr(store, "server", None)
        if server is None:
            raise ConfigError("faults.restart_storage needs the s3-local storage (a server this project runs)")

        def restart() -> str:
            old = server.info().pid
            new = server.crash_and_restart().pid
            return f"storage server killed (pid {old}) and restarted (pid {new})"

        return lambda: _after(self.delay_s, restart, "storage restart")

    def dask_kill_marker(self, run_id: str) -> str | None:
        """A path the first map task checks: absent, it creates it and kills its own worker mid-task.

        The task itself pulls the trigger, so the worker dies while it runs (a timer in the
        driver could fire after a short job ended); the marker makes it happen once, so Dask's
        rescheduled attempt completes. Workers must share this host's /tmp (a LocalCluster).
        """
        if not self.kill_dask_worker:
            return None
        import tempfile
        from pathlib import Path

        marker = Path(tempfile.gettempdir()) / f"aqbench-kill-{run_id}"
        marker.unlink(missing_ok=True)
        _markers.append(marker)  # after the run, an existing marker means the worker was killed
        return str(marker)


_markers: list[Any] = []


def _killed_workers() -> list[str]:
    done = []
    for marker in list(_markers):
        if marker.exists():
            done.append("fault injected: a Dask worker killed itself (SIGKILL) during map task 0")
            marker.unlink(missing_ok=True)
        _markers.remove(marker)
    return done


def _after(seconds: float, action: Callable[[], str], what: str) -> None:
    def later() -> None:
        time.sleep(seconds)
        try:
            done = f"fault injected: {action()}"
        except Exception as exc:  # the run's own checks judge the outcome; say what went wrong here
            done = f"fault injection ({what}) failed: {exc}"
            log.error(done)
        with _events_lock:
            _events.append(done)

    threading.Thread(target=later, name=f"aqbench-fault-{what}", daemon=True).start()
