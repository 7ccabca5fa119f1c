"""One emulated Lambda execution environment: a process that starts once and serves calls.

Started by :mod:`aqbench.emulated.service` when a call finds no idle environment of
its function (a cold start). It does what a Lambda's INIT phase does: enters its function's
CPU and memory limits (one cgroup per environment, as Lambda sizes the environment, not the
call), imports Lithops' worker and the kernel's libraries and makes a first Arrow compute
call; the seconds that took are its ``init_s``. Then it serves calls one at a time, each as
Lithops' own localhost runner would (``function_handler`` on the task file), for as long
as the service keeps it: later calls are warm (``WARM_CONTAINER``, Lithops' own flag).

Control: task file paths arrive one per line on an inherited pipe; a status line per call
goes back on another (the first line says the environment is ready, with its init time). Its stdout and
stderr go to its log file, so nothing a call prints can break the protocol.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import uuid


def _init(memory_mb: int, emulate: bool, group: str, spawned: float) -> dict:
    emulated = False
    if emulate:
        from aqbench.emulated import cgroups

        emulated = cgroups.enter(memory_mb, group.split("/")[0], group.split("/")[1]).emulated
    import multiprocessing as mp

    with contextlib.suppress(RuntimeError):  # already set
        mp.set_start_method("fork")  # Lithops' worker relies on fork (its runner sets it too)
    from lithops.worker import function_handler  # noqa: F401 - the import is the point: INIT

    from aqbench.kernels import warm_up
    from aqbench.kernels.arrow import use_system_allocator

    use_system_allocator()
    warm_up()  # the kernel's imports and Arrow's lazy first-call initialisation
    return {"ready": True, "emulated": emulated, "init_s": time.time() - spawned, "pid": os.getpid()}


def main(argv: list[str]) -> int:
    memory_mb, emulate, group, spawned, log_path = int(argv[0]), argv[1] == "1", argv[2], float(argv[3]), argv[4]
    fd_in, fd_out = int(argv[5]), int(argv[6])
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - the process's output for its whole life
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
    control_in, control_out = os.fdopen(fd_in, "r"), os.fdopen(fd_out, "w", buffering=1)
    ready = _init(memory_mb, emulate, group, spawned)
    os.environ["AQBENCH_ENV_EMULATED"] = "1" if ready["emulated"] else "0"
    control_out.write(json.dumps(ready) + "\n")
    from lithops.worker import function_handler

    served = 0
    for line in control_in:
        task_file, _, deadline = line.strip().partition(" ")
        if not task_file:
            continue
        # Lambda's timeout is the invocation's: the service says when this activation's ends
        os.environ["AQBENCH_INVOCATION_DEADLINE"] = deadline or "0"
        status = 0
        try:
            with open(task_file) as fh:
                payload = json.load(fh)
            payload["worker_processes"] = 1  # this environment is the one worker, as on Lambda
            os.environ["__LITHOPS_ACTIVATION_ID"] = uuid.uuid4().hex[:12]
            os.environ["__LITHOPS_BACKEND"] = "Localhost"
            if served:  # the first call paid the cold start; Lithops reads its own flag
                os.environ["WARM_CONTAINER"] = "True"
            else:
                os.environ.pop("WARM_CONTAINER", None)
            function_handler(payload)
        except Exception as exc:  # the call's own failure is in its status; say it here too
            print(f"aqbench lambda environment: call failed: {exc!r}", flush=True)
            status = 1
        served += 1
        control_out.write(f"{status}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
