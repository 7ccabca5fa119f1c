"""The study's own software verbs: study-env (build it) and study-2023 (the slides' code in it)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aqbench.cli.common import print_json, store_options, store_spec, subcommand


def _study_env(args: argparse.Namespace) -> int:
    from aqbench.study2023 import environment

    python = args.python or environment.find_python38()
    record = environment.build(python, Path(args.venv) if args.venv else None, Path(args.lock) if args.lock else None)
    environment.write(record, Path(args.out))
    print_json({k: record[k] for k in ("python", "interpreter", "venv")} | {
        k: record["packages"].get(k) for k in ("lithops", "pandas", "numpy")})  # fmt: skip
    return 0


def _study_2023(args: argparse.Namespace) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from aqbench.atomic import atomic_path
    from aqbench.errors import ConfigError
    from aqbench.storage.stage import Manifest
    from aqbench.study2023 import activations

    env = json.loads(Path(args.environment).read_text())
    manifest = Manifest.read(args.manifest)
    objects = manifest.objects[: args.objects]
    unknown = set(args.preprocess) - set(activations.PREPROCESS)
    if unknown:
        raise ConfigError(f"--preprocess {sorted(unknown)}: choose from {', '.join(activations.PREPROCESS)}")
    plan = activations.Plan(tuple(args.memory), args.repetitions, tuple(args.preprocess), tuple(args.jobs),
                            tuple(args.software))  # fmt: skip
    rows = activations.run(str(Path(env["venv"]) / "bin" / "python"), store_spec(args).open(), list(objects), plan)
    failed = [r for r in rows if r["status"] != "success"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    names = list(dict.fromkeys(k for r in rows for k in r))  # every row's columns, not only the first's
    with atomic_path(Path(args.out)) as tmp:
        pq.write_table(pa.Table.from_pylist([{n: r.get(n) for n in names} for r in rows]), tmp)
    print(activations.summary(rows), flush=True)
    print_json({"activations": len(rows), "failed": len(failed)})
    return 0


def _study_explain(args: argparse.Namespace) -> int:
    import pandas as pd

    from aqbench.atomic import atomic_path
    from aqbench.cost import Prices
    from aqbench.scale.calibration import Calibration
    from aqbench.study2023 import cpu, resimulate

    record = resimulate.explain(
        pd.read_parquet(args.activations),
        Calibration.from_dict(json.loads(Path(args.calibration).read_text())),
        Path(args.facts),
        cpu.read(Path(args.cpu_facts)),
        Prices.from_config(json.loads(args.prices)),
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(Path(args.out)) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=1, default=float))
    dec = record["decomposition"]
    for factor in dec["factors"]:
        own, cum = factor["own"], factor["cumulative"]
        print(
            f"{factor['name'][:66]:66s} {own['value']:6.2f} [{own['low']:.2f}-{own['high']:.2f}]"
            f"  -> [{cum['low']:.2f}-{cum['high']:.2f}] s"
        )
    for variant, span in dec["variants"].items():
        print(
            f"predicted at {dec['memory_mb']} MB, {variant:20s} {span['value']:6.2f} s"
            f" [{span['low']:.2f}-{span['high']:.2f}]"
        )
    print(record["verdict"]["sentence"], flush=True)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = subcommand(
        sub,
        "study-env",
        _study_env,
        "build the study's own software: a Python 3.8 environment from runtime/study2023/requirements.lock",
        "Finds a Python 3.8 (AQBENCH_PYTHON38, pyenv's, or python3.8 on the PATH), builds the environment "
        "from the lock (hashes checked; rebuilt only when the lock or the interpreter changed) and records "
        "what it holds. Without a Python 3.8: one line saying how to get one.",
    )
    p.add_argument("--python", help="the Python 3.8 interpreter (default: found on the machine)")
    p.add_argument("--venv", help="where the environment goes (default: .venv-study2023 in the checkout)")
    p.add_argument("--lock", help="the pinned packages (default: the checkout's runtime/study2023/requirements.lock)")
    p.add_argument("--out", required=True, help="JSON record of the environment")

    p = subcommand(
        sub,
        "study-2023",
        _study_2023,
        "run the slides' code verbatim in the study's software, an activation at a time, emulated per memory size",
        "Every (repetition, memory size, preprocess variant, job, object) interleaved: one study-layout object "
        "through day_average_map (or day_max_map) of runtime/study2023/study_code.py, in the environment "
        "study-env built, held to an emulated Lambda of the memory size; a row per activation with its phases.",
        parents=(store_options(),),
    )
    p.add_argument("--environment", required=True, help="study-env's record")
    p.add_argument("--manifest", required=True, help="the study-layout objects' manifest (stage-study)")
    p.add_argument("--objects", type=int, default=1, help="how many of them")
    p.add_argument("--memory", type=int, nargs="+", default=[1024, 2048, 3538], help="memory sizes (MB)")
    p.add_argument("--repetitions", type=int, default=5, help="runs of every configuration, interleaved")
    p.add_argument("--preprocess", nargs="+", default=["str_accessors"], help="preprocess variants")
    p.add_argument("--jobs", nargs="+", default=["average"], choices=("average", "max"), help="map jobs")
    p.add_argument("--software", nargs="+", default=["2023", "today"], choices=("2023", "today"),
                   help="the study's environment, and today's (this project's Python and pandas)")  # fmt: skip
    p.add_argument("--out", required=True, help="activations.parquet")

    p = subcommand(
        sub,
        "study-explain",
        _study_explain,
        "what set the study's times: its cost per activation rebuilt factor by factor, and its runs re-simulated",
        "From study-2023's activations: the study's software, each preprocess variant, Lithops 2.7.1 around an "
        "activation, Lambda's CPU of 2023 against this host's (workflow/config/cpu_facts.yaml) and the object's "
        "download; each variant's predicted activation against the study's two runs, both runs re-simulated, "
        "and the study's job for a user. One JSON record.",
    )
    p.add_argument("--activations", required=True, help="study-2023's activations.parquet")
    p.add_argument("--calibration", required=True, help="the scale model's calibration.json")
    p.add_argument("--facts", required=True, help="Lambda's published facts (lambda_facts.yaml)")
    p.add_argument("--cpu-facts", required=True, help="the CPU ratios (cpu_facts.yaml)")
    p.add_argument("--prices", required=True, help="the profile's prices (JSON)")
    p.add_argument("--out", required=True, help="explained.json")
