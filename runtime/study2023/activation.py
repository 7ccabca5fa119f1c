"""One activation of the study's code, timed by phase, in the study's software (Python 3.8).

    python activation.py --folder DIR --key df0.json --job average --preprocess str_accessors
    python activation.py --folder DIR --reduce average --results out0.json out1.json

Runs the slides' function unchanged (``study_code``) and times what it calls from outside it:
the object's read (``download_bytes``), the JSON parse (``json.loads``, as the slides' line calls
it), the frame (``loads_recursive``) and ``preprocess``; the rest of the activation is the slides'
own pandas (group-by, merge, ``drop_duplicates()``, ``to_json()``). Prints one JSON line: the
phases in seconds, CPU seconds, the peak resident memory, the garbage collector's work and the
result's size; ``--out`` also keeps the result (a map's ``to_json()``) for a reduce.
"""

import argparse
import gc
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy  # noqa: E402
import study_code  # noqa: E402


def load_today():
    """study_code as today's pandas runs it: its TODAY lines replaced (the 2023 run needs none)."""
    import types

    with open(study_code.__file__) as fh:
        source = study_code.today_source(fh.read())
    module = types.ModuleType("study_code")
    module.__file__ = study_code.__file__
    exec(compile(source, study_code.__file__ + " (today)", "exec"), module.__dict__)
    return module


class Phases:
    """Seconds spent in each wrapped call (a call inside another counts in both)."""

    def __init__(self):
        self.seconds = {}

    def wrap(self, name, fn):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

        return timed


class TimedJson:
    """``json`` as the slides' line sees it, its ``loads`` timed."""

    def __init__(self, phases):
        self.loads = phases.wrap("json_loads", json.loads)

    def __getattr__(self, name):
        return getattr(json, name)


class Collector:
    """The garbage collector's passes and the time they took, by generation."""

    def __init__(self):
        self.passes, self.seconds, self._start = [0, 0, 0], 0.0, 0.0
        gc.callbacks.append(self.callback)

    def callback(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.passes[info["generation"]] += 1
            self.seconds += time.perf_counter() - self._start


def peak_rss_mb():
    """The process's high-water mark of resident memory (VmHWM: since its exec, unlike ru_maxrss,
    which keeps the launcher's from before the exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    global study_code
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", required=True, help="where download_bytes finds the objects")
    parser.add_argument("--key", help="the object a map reads")
    parser.add_argument("--job", choices=("average", "max"), default="average")
    parser.add_argument("--preprocess", default="str_accessors", choices=sorted(study_code.PREPROCESS))
    parser.add_argument("--reduce", choices=("average", "max"), help="run the job's reduce over --results")
    parser.add_argument("--results", nargs="*", default=[], help="map results (files of to_json())")
    parser.add_argument("--out", help="write the result here")
    parser.add_argument("--software", choices=("2023", "today"), default="2023",
                        help="today: the lines today's pandas refuses replaced (study_code.TODAY)")
    args = parser.parse_args(argv)
    if args.software == "today":
        study_code = load_today()

    os.environ["AQBENCH_PREPROCESS"] = args.preprocess
    study_code.set_source(args.folder)
    phases = Phases()
    study_code.json = TimedJson(phases)
    for name in ("download_bytes", "loads_recursive", "preprocess"):
        setattr(study_code, name, phases.wrap(name, getattr(study_code, name)))
    collector = Collector()
    cpu0, start = time.process_time(), time.perf_counter()
    if args.reduce:
        results = []
        for path in args.results:
            with open(path) as fh:
                results.append(fh.read())
        fn = study_code.day_average_reduce if args.reduce == "average" else study_code.day_max_reduce
        result = phases.wrap("activation", fn)(results)
    else:
        fn = study_code.day_average_map if args.job == "average" else study_code.day_max_map
        result = phases.wrap("activation", fn)(args.key)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(result)
    print(json.dumps({
        "job": args.reduce or args.job,
        "phase": "reduce" if args.reduce else "map",
        "preprocess": None if args.reduce else args.preprocess,
        "seconds": seconds,
        "cpu_s": cpu,
        "phases_s": phases.seconds,
        "result_bytes": len(result.encode("utf-8")),
        "peak_rss_mb": peak_rss_mb(),
        "gc_passes": collector.passes,
        "gc_s": collector.seconds,
        "emulated": os.environ.get("AQBENCH_EMULATED") == "1",
        "software": args.software,
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
        "pandas": study_code.pd.__version__,
        "numpy": numpy.__version__,
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
