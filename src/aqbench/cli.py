"""The ``aqbench`` command: one subcommand per workflow step, each testable without Snakemake.

Errors of the user's making (:class:`~aqbench.errors.AqbenchError`) end as one line on
stderr and a non-zero exit; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aqbench import __version__
from aqbench.errors import AqbenchError

log = logging.getLogger(__name__)

KERNELS = ("reference", "arrow", "seed")


def store_from_args(args: argparse.Namespace):
    """The object store named by the common storage options."""
    from aqbench.storage import open_store

    return open_store(
        args.storage, args.bucket, {"state_dir": args.state, "lithops_tmp": args.lithops_tmp, "region": args.region}
    )


def _store_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("object store")
    g.add_argument(
        "--storage",
        default="s3-local",
        choices=("s3-local", "localhost", "aws"),
        help="which object store holds the staged data",
    )
    g.add_argument("--bucket", default="aqbench", help="bucket name")
    g.add_argument("--state", default="results/default/s3", help="s3-local: the server's state folder")
    g.add_argument(
        "--lithops-tmp",
        default="results/default/lithops-tmp",
        help="localhost: Lithops' temporary folder (its storage lives there)",
    )
    g.add_argument("--region", default="us-east-1", help="aws: the bucket's region")
    return p


def _manifest_sources(args: argparse.Namespace) -> list:
    from aqbench.inputs import FetchedObject
    from aqbench.storage.stage import Manifest

    manifest = Manifest.read(args.manifest)
    store = store_from_args(args)
    return [FetchedObject(o.key, lambda key=o.key: store.get(key)) for o in manifest.objects]


def _cmd_aggregate(args: argparse.Namespace) -> int:
    from aqbench.aggregates import write_csv
    from aqbench.atomic import atomic_path
    from aqbench.errors import ConfigError
    from aqbench.inputs import find_data_files
    from aqbench.kernels.reference import aggregate_files

    if bool(args.paths) == bool(args.manifest):
        raise ConfigError("give either data PATHs or --manifest (to read the staged objects), not both")
    files = find_data_files(args.paths) if args.paths else _manifest_sources(args)
    started = time.perf_counter()
    with atomic_path(args.out) as tmp:  # proves the output is writable before the work
        if args.kernel == "reference":
            result = aggregate_files(files, threads=args.threads)
            aggregates, counts = result.aggregates, result.counts
        else:
            from aqbench.kernels import get_kernel, run_in_process

            objects = ((str(f), f.read_bytes() if isinstance(f, Path) else f.fetch()) for f in files)
            aggregates, counts = run_in_process(get_kernel(args.kernel), objects, args.reducers)
        write_csv(aggregates, tmp)
    summary = counts.to_dict() | {"groups": aggregates.num_rows}
    log.info("aggregated %d files in %.2f s", len(files), time.perf_counter() - started)
    line = json.dumps(summary)
    if args.summary:
        with atomic_path(args.summary) as tmp:
            tmp.write_text(line + "\n", encoding="utf-8")
    print(line, flush=True)
    return 0


def _add_aggregate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "aggregate",
        help="daily count/sum/average/max per station, day, parameter and unit, in one process",
        description=(
            "Aggregate OpenAQ legacy lines (.ndjson or .ndjson.gz files, or folders of them) "
            "into one CSV row per key, and print a JSON line accounting for every line read."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[_store_options()],
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="data files or folders holding them")
    p.add_argument("--manifest", help="read the objects of this staging manifest from the store instead")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="aggregate CSV to write")
    p.add_argument("--summary", metavar="FILE.json", help="also write the summary line to this file")
    p.add_argument("--kernel", choices=KERNELS, default="reference", help="which kernel computes it")
    p.add_argument("--reducers", type=int, default=1, help="hash partitions of the reduce (map/reduce kernels)")
    p.add_argument("--threads", type=int, default=None, help="threads for the engine (default: all cores)")
    p.set_defaults(func=_cmd_aggregate)


def _cmd_generate(args: argparse.Namespace) -> int:
    from aqbench.synth.generate import generate, plan_dataset

    plan = plan_dataset(
        args.size,
        seed=args.seed,
        object_size=args.object_size,
        days=args.days,
        stations=args.stations,
        bad_fraction=args.bad_fraction,
        sentinel_fraction=args.sentinel_fraction,
    )
    log.info(
        "plan: %d objects of %d hours, %d stations (%d series), %d days",
        plan.objects,
        plan.hours_per_object,
        plan.stations,
        plan.series,
        plan.hours // 24,
    )
    meta = generate(plan, args.out, jobs=args.jobs, progress=not args.quiet)
    print(json.dumps({k: meta[k] for k in ("objects", "bytes", "lines", "malformed_lines", "seconds")}), flush=True)
    return 0


def _add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="write a synthetic OpenAQ dataset in the exact legacy format",
        description=(
            "Write deterministic synthetic OpenAQ realtime data as time-ordered fetch batches "
            "(df00000.ndjson, ...). The same seed and size give byte-identical objects."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--size", required=True, help="total size, e.g. 20MB, 1GB, 50GB")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", required=True, help="folder to create (must not exist or be empty)")
    p.add_argument("--object-size", default="25MB", help="approximate size of one object")
    p.add_argument("--days", type=int, default=60, help="period covered (sets the number of stations)")
    p.add_argument("--stations", type=int, default=None, help="number of stations (overrides --days)")
    p.add_argument("--bad-fraction", type=float, default=0.001, help="share of malformed lines")
    p.add_argument("--sentinel-fraction", type=float, default=0.002, help="share of -999 sentinel values")
    p.add_argument("--jobs", type=int, default=1, help="parallel processes (output is the same)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_generate)


def _cmd_storage(args: argparse.Namespace) -> int:
    from aqbench.storage.server import LocalS3Server

    server = LocalS3Server(args.state)
    if args.action == "up":
        info = server.up(timeout=args.timeout)
        print(info.endpoint, flush=True)
    elif args.action == "down":
        print("stopped" if server.down() else "not running", flush=True)
    else:
        info = server.info()
        healthy = info is not None and server.healthy(info)
        print(
            json.dumps(
                {
                    "running": info is not None,
                    "healthy": healthy,
                    "endpoint": info.endpoint if info else None,
                    "pid": info.pid if info else None,
                }
            )
        )
        return 0 if healthy else 1
    return 0


def _cmd_preflight(args: argparse.Namespace) -> int:
    from aqbench import preflight

    # the s3-local server is started after the preflight; only the other kinds open a store here
    store = store_from_args(args) if args.storage == "aws" else None
    checked = preflight.run(store, args.scheduler_address, json.loads(args.backend))
    print(json.dumps({"ok": True, "checked": checked}), flush=True)
    return 0


def _add_preflight(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "preflight",
        help="check the profile's endpoints before any work: bucket, local server, Dask scheduler",
        description="Exits 2 with one line naming the setting when a bucket is missing or unreadable, "
        "the local S3 server is down, or the Dask scheduler does not answer.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[_store_options()],
    )
    p.add_argument("--scheduler-address", default="", help="the profile's dask.scheduler_address")
    p.add_argument("--backend", default='{"name": "localhost"}', help="JSON: the Lithops compute backend")
    p.set_defaults(func=_cmd_preflight)


def _add_storage(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "storage",
        help="start, stop or check the local S3-compatible server (SeaweedFS on 127.0.0.1)",
        description="Manage the loopback S3 server of the s3-local storage profile. 'up' is idempotent "
        "and prints the endpoint once the server accepts writes; 'status' exits 1 when it is not healthy.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("action", choices=("up", "down", "status"))
    p.add_argument("--state", default="results/default/s3", help="folder holding the server's data and state")
    p.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the server to be healthy")
    p.set_defaults(func=_cmd_storage)


def _cmd_stage(args: argparse.Namespace) -> int:
    from aqbench.storage.stage import stage

    store = store_from_args(args)
    manifest = stage(args.data, store, args.prefix, jobs=args.jobs, progress=not args.quiet)
    manifest.write(args.manifest)
    print(json.dumps({k: v for k, v in manifest.to_dict().items() if k != "objects"}), flush=True)
    return 0


def _add_stage(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stage",
        help="upload the dataset into the profile's bucket, verified, and write its manifest",
        description="Upload data files into the bucket (skipping objects already there with the same "
        "sha256), read every uploaded object back to verify it, and write the manifest "
        "(key, bytes, records, sha256 per object).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[_store_options()],
    )
    p.add_argument("data", nargs="+", help="data files or folders")
    p.add_argument("--manifest", required=True, help="manifest JSON to write")
    p.add_argument("--prefix", default="openaq/", help="key prefix of the objects in the bucket")
    p.add_argument("--jobs", type=int, default=4, help="parallel uploads")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_stage)


def _cmd_verify(args: argparse.Namespace) -> int:
    from aqbench.aggregates import compare, read_csv
    from aqbench.atomic import atomic_path
    from aqbench.errors import VerificationError

    result = compare(read_csv(args.expected), read_csv(args.actual))
    report = {
        "expected": args.expected,
        "actual": args.actual,
        "equal": result.equal,
        "missing": result.missing,
        "unexpected": result.unexpected,
        "mismatched": result.mismatched,
        "examples": list(result.examples),
    }
    if not result.equal:
        raise VerificationError(f"{args.actual} differs from {args.expected}: {result.describe()}")
    if args.summary and args.manifest:
        from aqbench.storage.stage import Manifest

        read = json.loads(Path(args.summary).read_text(encoding="utf-8"))["records_read"]
        staged = Manifest.read(args.manifest).records
        if read != staged:
            raise VerificationError(
                f"the run read {read} records but the manifest lists {staged}: "
                f"{abs(staged - read)} records were {'lost' if read < staged else 'invented'}"
            )
        report["records_read"] = read
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(report, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


def _add_verify(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="compare an aggregate CSV with the reference; fail on any difference",
        description="Keys, counts and maxima must match exactly, sums and averages to 1e-9 relative.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--expected", required=True, help="the reference aggregate CSV")
    p.add_argument("--actual", required=True, help="the aggregate CSV to check")
    p.add_argument("--summary", help="the run's summary JSON, whose records_read must equal ...")
    p.add_argument("--manifest", help="... the record count of this staging manifest")
    p.add_argument("--out", required=True, help="verification report (JSON), written only when equal")
    p.set_defaults(func=_cmd_verify)


def _cmd_import_legacy(args: argparse.Namespace) -> int:
    from aqbench.legacy_import import import_legacy

    print(json.dumps(import_legacy(args.sources, args.out, args.object_size)), flush=True)
    return 0


def _add_import_legacy(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-legacy",
        help="re-cut a local copy of OpenAQ's legacy realtime files into objects of about 25 MB",
        description="Copy the lines of legacy .ndjson/.ndjson.gz files (the old openaq-fetches bucket) "
        "byte for byte into df00000.ndjson, ... of about --object-size each.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("sources", nargs="+", help="legacy files or folders")
    p.add_argument("--out", required=True, help="folder to create")
    p.add_argument("--object-size", default="25MB", help="approximate size of one object")
    p.set_defaults(func=_cmd_import_legacy)


def _cmd_fetch_openaq(args: argparse.Namespace) -> int:
    from datetime import date

    from aqbench.errors import ConfigError
    from aqbench.openaq_archive import fetch

    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError as exc:
        raise ConfigError(f"dates must be YYYY-MM-DD ({exc})") from exc
    stats = fetch(args.out, args.country, start, end, args.max_locations, args.object_size, progress=not args.quiet)
    print(json.dumps(stats), flush=True)
    return 0


def _add_fetch_openaq(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fetch-openaq",
        help="download real measurements from the public openaq-data-archive bucket (needs the internet)",
        description="Download one country's per-location daily CSVs (anonymous requests) and convert "
        "every row into a legacy realtime line, cut into objects of about --object-size.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--country", required=True, help="ISO-2 country code, e.g. PL")
    p.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--end", required=True, help="last day, YYYY-MM-DD")
    p.add_argument("--max-locations", type=int, default=50, help="at most this many locations (lowest ids)")
    p.add_argument("--object-size", default="25MB", help="approximate size of one object")
    p.add_argument("--out", required=True, help="folder to create")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_fetch_openaq)


def _cmd_bench(args: argparse.Namespace) -> int:
    import importlib

    module = importlib.import_module(f"aqbench.bench.{args.what}")
    if args.what == "engines":
        from aqbench.engines.lithops_engine import prepare_environment
        from aqbench.errors import ConfigError

        if not args.manifest:
            raise ConfigError("bench engines needs --manifest (and the store options) of staged data")
        prepare_environment(Path(args.lithops_home), Path(args.lithops_tmp))
        logging.getLogger("distributed").setLevel(logging.ERROR)
        spec = {
            "state_dir": str(Path(args.state).resolve()),
            "lithops_tmp": str(Path(args.lithops_tmp).resolve()),
            "region": args.region,
        }
        result = module.bench_from_cli(Path(args.manifest), store_from_args(args), spec, args.repeats)
        print(module.report(result), flush=True)
        return 0
    options = {"size": args.size} if args.size else {}
    if args.fan_in:
        options["fan_in"] = args.fan_in
    result = module.run(**options, repeats=args.repeats)
    print(module.report(result), flush=True)
    if args.json:
        from aqbench.atomic import atomic_path

        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(result, indent=1) + "\n")
    return 0


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmarks that print a figure beside its reference, as a ratio",
        description="generate: the synthetic generator's MB/s on one core beside raw disk writes. "
        "kernels: each kernel's map MB/s beside a bare parse+groupby of the same object. "
        "engines: Lithops (emulation off) and Dask on staged data beside the bare parse of the same data.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[_store_options()],
    )
    p.add_argument("what", choices=("generate", "kernels", "engines"))
    p.add_argument("--manifest", help="engines: the staging manifest of the data to run on")
    p.add_argument("--lithops-home", default="results/default/lithops-home", help="engines: Lithops' home")
    p.add_argument("--size", default=None, help="data size to use (each benchmark has its default)")
    p.add_argument("--repeats", type=int, default=3, help="runs; medians are reported")
    p.add_argument("--fan-in", type=int, default=0, help="kernels: partials merged (default: 2000, the study's)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    p.set_defaults(func=_cmd_bench)


def _run_engine_experiment(
    args: argparse.Namespace, engine: str, store: Any, run_once: Callable[..., Any], env_extra: dict[str, Any]
) -> int:
    """The part of run-lithops and run-dask that is the same: grid, faults, verified runs, summary.

    ``run_once(cfg, keys, faults)`` runs one configuration on the engine.
    """
    from aqbench.engines.experiment import References, expand, run_experiment
    from aqbench.engines.faults import Faults
    from aqbench.storage.stage import Manifest

    manifest = Manifest.read(args.manifest)
    configs = expand(args.experiment, json.loads(args.grid), args.repetitions)
    faults = Faults.from_json(args.faults)
    results = run_experiment(
        engine,
        args.experiment,
        configs,
        lambda cfg, keys: run_once(cfg, keys, faults),
        manifest,
        References(Path(args.reference), manifest, store),
        Path(args.out),
        {
            "engine": engine,
            "storage": args.storage,
            **env_extra,
            "retries": args.retries,
            "faults_injected": faults.active(),
        },
    )
    summary = {"runs": len(results)} | {s: sum(r.status == s for r in results) for s in ("ok", "timeout", "failed")}
    print(json.dumps(summary), flush=True)
    return 0


def _experiment_options() -> argparse.ArgumentParser:
    """The options run-lithops and run-dask share."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--experiment", required=True, help="name of the experiment")
    p.add_argument("--grid", required=True, help='JSON: settings of the runs, e.g. {"memory_mb": [1024, 2048]}')
    p.add_argument("--repetitions", type=int, default=3, help="runs of each configuration (interleaved)")
    p.add_argument("--manifest", required=True, help="the staging manifest")
    p.add_argument("--reference", required=True, help="reference aggregate CSV of all staged objects")
    p.add_argument("--out", required=True, help="folder for calls.parquet, runs.parquet, aggregates/")
    p.add_argument("--retries", type=int, default=2, help="times a failed call or task is resubmitted")
    p.add_argument("--faults", default="", help='JSON: faults to inject, e.g. {"map_error_fraction": 0.2}')
    return p


def _cmd_run_lithops(args: argparse.Namespace) -> int:
    from aqbench.engines.lithops_engine import prepare_environment

    prepare_environment(Path(args.lithops_home), Path(args.lithops_tmp))  # before Lithops is imported
    from aqbench.engines import lambda_emulation
    from aqbench.engines.lithops_engine import run_once

    store = store_from_args(args)
    backend = json.loads(args.backend)
    emulation_ok, why = lambda_emulation.available()
    return _run_engine_experiment(
        args,
        "lithops",
        store,
        lambda cfg, keys, faults: run_once(
            cfg,
            keys=keys,
            store=store,
            backend=backend,
            emulate=args.emulate,
            concurrency=args.concurrency,
            scratch_prefix=args.scratch_prefix,
            retries=args.retries,
            faults=faults,
        ),
        {
            "backend": backend.get("name", "localhost"),
            "lambda_emulation_requested": args.emulate,
            "lambda_emulation_available": emulation_ok,
            "lambda_emulation_why_not": why,
        },
    )


def _add_run_lithops(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run-lithops",
        help="run one experiment (a grid of configurations, N repetitions) as Lithops map/reduce jobs",
        description="Every run is verified against the reference of the objects it read and its line "
        "count reconciled with the manifest; one tidy row per call goes to calls.parquet, one per run "
        "to runs.parquet.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[_store_options(), _experiment_options()],
    )
    p.add_argument("--backend", default='{"name": "localhost"}', help="JSON: the Lithops compute backend")
    p.add_argument(
        "--emulate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="localhost: run each call in a cgroup sized like a Lambda of its memory",
    )
    p.add_argument("--concurrency", type=int, default=0, help="parallel calls (0: as many as fit the cores)")
    p.add_argument("--lithops-home", default="results/default/lithops-home", help="Lithops' home folder")
    p.add_argument("--scratch-prefix", default="runs/", help="key prefix for intermediate partials")
    p.set_defaults(func=_cmd_run_lithops)


def _cmd_run_dask(args: argparse.Namespace) -> int:
    from aqbench.engines.dask_engine import run_once

    logging.getLogger("distributed").setLevel(logging.ERROR)  # closing a LocalCluster is noisy, not wrong

    store = store_from_args(args)
    spec = (
        args.storage,
        args.bucket,
        {
            "state_dir": str(Path(args.state).resolve()),
            "lithops_tmp": str(Path(args.lithops_tmp).resolve()),
            "region": args.region,
        },
    )
    return _run_engine_experiment(
        args,
        "dask",
        store,
        lambda cfg, keys, faults: run_once(
            cfg,
            keys=keys,
            store=store,
            store_spec=spec,
            scheduler_address=args.scheduler_address or None,
            retries=args.retries,
            faults=faults,
        ),
        {"scheduler_address": "set" if args.scheduler_address else "LocalCluster"},
    )


def _add_run_dask(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run-dask",
        help="run one experiment on a Dask cluster: the shared kernel as tasks, or idiomatic Dask",
        description="kernel 'arrow'/'seed' runs the shared kernel as Dask tasks; kernel 'idiomatic' is "
        "dask.bag + dataframe groupby. Every run is verified like the Lithops runs.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[_store_options(), _experiment_options()],
    )
    p.add_argument("--scheduler-address", default="", help="an existing cluster (default: a LocalCluster)")
    p.set_defaults(func=_cmd_run_dask)


def _cmd_metrics(args: argparse.Namespace) -> int:
    import yaml

    from aqbench.cost import Prices
    from aqbench.metrics import compute

    prices = Prices.from_config(
        yaml.safe_load(Path(args.prices).read_text())
        if args.prices.endswith((".yaml", ".yml"))
        else json.loads(args.prices)
    )
    folders = sorted({Path(p).parent for p in args.runs})
    summary = compute(folders, prices, Path(args.out))
    print(json.dumps({"configurations": len(summary), "runs": int(summary["runs"].sum())}), flush=True)
    return 0


def _add_metrics(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "metrics",
        help="per-call rows of every experiment -> tidy tables, per-configuration summaries and cost",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("runs", nargs="+", help="runs.parquet files of the experiments (their folders are read)")
    p.add_argument("--prices", required=True, help="JSON object (or YAML file) of dated prices")
    p.add_argument("--out", required=True, help="folder for calls/runs/summary.parquet")
    p.set_defaults(func=_cmd_metrics)


def _cmd_figure(args: argparse.Namespace) -> int:
    from aqbench.report.figures import FIGURES, Inputs, draw

    if args.name not in FIGURES:
        from aqbench.errors import ConfigError

        raise ConfigError(f"unknown figure {args.name!r}: choose one of {', '.join(FIGURES)}")
    draw(
        args.name,
        Inputs(
            Path(args.metrics),
            Path(args.reference) if args.reference else None,
            Path(args.bench) if args.bench else None,
        ),
        Path(args.pdf),
        Path(args.png),
    )
    return 0


def _add_figure(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "figure",
        help="draw one figure (PDF for the paper, PNG preview)",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("name", help="the figure's name (its plotting function)")
    p.add_argument("--metrics", required=True, help="the metrics folder")
    p.add_argument("--reference", help="reference aggregate CSV (the maps)")
    p.add_argument("--bench", help="kernel benchmark JSON (kernel figure)")
    p.add_argument("--pdf", required=True)
    p.add_argument("--png", required=True)
    p.set_defaults(func=_cmd_figure)


def _cmd_report(args: argparse.Namespace) -> int:
    from aqbench.report.tables import build

    build(
        Path(args.metrics),
        Path(args.reference),
        Path(args.reference_summary),
        Path(args.manifest),
        Path(args.generation) if args.generation else None,
        Path(args.bench) if args.bench else None,
        [Path(b) for b in args.benchmarks],
        json.loads(args.prices),
        Path(args.out),
    )
    return 0


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="LaTeX tables and the macros file of every number in the paper",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--metrics", required=True)
    p.add_argument("--reference", required=True, help="reference aggregate CSV")
    p.add_argument("--reference-summary", required=True, help="reference summary JSON")
    p.add_argument("--manifest", required=True)
    p.add_argument("--generation", help="generation.json of synthetic data, if any")
    p.add_argument("--bench", help="kernel benchmark JSON")
    p.add_argument("--benchmarks", nargs="*", default=[], help="Snakemake benchmark TSVs (the workflow's time)")
    p.add_argument("--prices", required=True, help="JSON object of dated prices")
    p.add_argument("--out", required=True, help="folder for macros.tex and tables/")
    p.set_defaults(func=_cmd_report)


def _cmd_paper(args: argparse.Namespace) -> int:
    from aqbench.report.paper import build_paper

    pages = build_paper(Path(args.source), Path(args.generated), Path(args.out))
    print(json.dumps({"pdf": args.out, "pages": pages}), flush=True)
    return 0


def _add_paper(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "paper",
        help="build the paper with latexmk from paper/ and the generated files",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--source", default="paper", help="folder of main.tex and its sections")
    p.add_argument("--generated", required=True, help="folder of macros.tex, tables/ and figures/")
    p.add_argument("--out", required=True, help="the PDF to write")
    p.set_defaults(func=_cmd_paper)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aqbench",
        description="Serverless (Lithops) versus cluster (Dask) analysis of OpenAQ data.",
    )
    parser.add_argument("--version", action="version", version=f"aqbench {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    adders: list[Callable[[argparse._SubParsersAction], None]] = [
        _add_aggregate,
        _add_generate,
        _add_import_legacy,
        _add_fetch_openaq,
        _add_storage,
        _add_preflight,
        _add_stage,
        _add_verify,
        _add_run_lithops,
        _add_run_dask,
        _add_metrics,
        _add_figure,
        _add_report,
        _add_paper,
        _add_bench,
    ]
    for add in adders:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.func(args)
    except AqbenchError as exc:
        print(f"aqbench {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
