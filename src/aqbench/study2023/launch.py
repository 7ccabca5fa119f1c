"""Run a program held to an emulated Lambda of M MB: ``python -m aqbench.study2023.launch M RUN CALL -- PROGRAM ARGS``.

The launcher moves itself into fresh cpu and memory groups (:func:`aqbench.emulated.cgroups.enter`,
the whole M for the program, since the launcher's own pages stay charged where they were) and
``exec``s the program, which keeps the groups: a Python 3.8 interpreter of the study's environment
gets a Lambda's CPU share and memory limit as the emulated environments do. Prints nothing of its
own; where cgroups are refused, the program runs unthrottled and ``AQBENCH_EMULATED=0`` says so.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    from aqbench.emulated.cgroups import enter

    memory, run, call, separator, *program = argv
    if separator != "--" or not program:
        raise SystemExit("usage: python -m aqbench.study2023.launch MEMORY_MB RUN CALL -- PROGRAM [ARGS]")
    emulation = enter(int(memory), run, call, resident=0)
    os.environ["AQBENCH_EMULATED"] = "1" if emulation.emulated else "0"
    os.execv(program[0], program)


if __name__ == "__main__":
    main(sys.argv[1:])
