"""Engine verbs: run-lithops, run-dask and run-duckdb (one experiment each), budget, lambda-runtime,
emulated-lambda and the benchmarks.

Longer than most modules: it is argument parsing, one short handler and one ``subcommand`` block
per verb, each readable alone; the work is in the modules they call.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from aqbench.cli.common import (
    Charged,
    experiment_options,
    ledger_options,
    lithops_options,
    print_json,
    store_of,
    store_options,
    store_spec,
    subcommand,
)
from aqbench.settings import DEFAULTS, PRICES


def _expected(args: argparse.Namespace) -> dict:
    """Each staged object's length and CRC32C, which every read checks."""
    from aqbench.storage.stage import Manifest

    return {o.key: o.expected for o in Manifest.read(args.manifest).objects}


def _spec(args: argparse.Namespace, engine: str):
    """The experiment's spec (``--spec``), refused in one line if it is another engine's."""
    from aqbench.errors import ConfigError
    from aqbench.spec import ExperimentSpec

    spec = ExperimentSpec.read(args.spec)
    if spec.engine != engine:
        raise ConfigError(f"--spec {args.spec}: a {spec.engine} experiment's spec, not {engine}'s")
    return spec


def _configs(spec) -> list:
    """Every run of the experiment: its grid's configurations, repetition-major."""
    from aqbench.engines.experiment import expand

    return expand(spec.experiment.name, spec.experiment.grid, spec.experiment.repetitions)


def _experiment(args: argparse.Namespace, spec, engine) -> list:
    """Grid, faults, verified runs, summary line: the same for every engine; the runs."""
    from aqbench.engines.experiment import References, run_experiment
    from aqbench.engines.faults import Faults
    from aqbench.storage.stage import Manifest

    manifest = Manifest.read(args.manifest)
    faults = Faults.from_json(json.dumps(spec.faults))
    section = getattr(spec, spec.engine)
    results = run_experiment(
        engine,
        spec.experiment.name,
        _configs(spec),
        faults,
        manifest,
        References(Path(args.reference), manifest),
        Path(args.out),
        {"storage": spec.store.kind, "retries": getattr(section, "retries", 0), "faults_injected": faults.active()},
        store_of(spec).open(),
    )
    print_json({"runs": len(results)} | {s: sum(r.status == s for r in results) for s in ("ok", "timeout", "failed")})
    return results


def _run_lithops(args: argparse.Namespace) -> int:
    from aqbench.engines.lithops.engine import prepare_environment

    spec = _spec(args, "lithops")
    prepare_environment(Path(spec.places.lithops_home), Path(spec.places.lithops_tmp))  # before Lithops is imported
    from aqbench.cost import lithops_run_cost
    from aqbench.engines.lithops.engine import LithopsEngine

    lithops = spec.lithops
    engine = LithopsEngine(
        store_of(spec).open(),
        lithops.backend_config(),
        _expected(args),
        emulate=lithops.emulate_lambda,
        concurrency=lithops.concurrency,
        scratch_prefix=args.scratch_prefix,
        retries=lithops.retries,
        warm=lithops.warm_environments,
        keep_alive_s=lithops.keep_alive_s,
        service_dir=Path(spec.places.lithops_tmp) / "lambda-service",
        network=lithops.network.emulated(),
        fetch_threads=lithops.reduce_fetch_threads,
    )
    with Charged.of(spec.budget) as bill:  # on AWS: no experiment starts once the budget is spent
        try:
            _experiment(args, spec, engine)
        finally:  # what was spent is recorded whether the experiment completed, failed or was interrupted
            for run in engine.runs:
                bill.add(spec.experiment.name, lithops_run_cost(run.calls, bill.prices, run.config.timeout_s,
                                                                args.async_retries))  # fmt: skip
    return 0


def _planned_egress(args: argparse.Namespace, spec, bill: Charged, name: str) -> None:
    """An engine that reads the bucket from this machine on AWS: S3 egress of every planned run's
    objects (an upper bound where a run stops early), charged whatever happens."""
    from aqbench.storage.stage import Manifest

    if spec.budget is None or not spec.budget.off_aws:
        return
    data_gb = Manifest.read(args.manifest).bytes / 1e9
    passes = sum(cfg.fraction for cfg in _configs(spec))
    bill.add(f"{name}:{spec.experiment.name} (S3 egress)", passes * data_gb * bill.prices.s3_egress_gb)


def _run_dask(args: argparse.Namespace) -> int:
    from aqbench.engines.dask.engine import DaskEngine
    from aqbench.settings import Network

    spec = _spec(args, "dask")
    logging.getLogger("distributed").setLevel(logging.ERROR)  # closing a LocalCluster is noisy, not wrong
    network = (spec.network or Network()).emulated()
    engine = DaskEngine(store_of(spec), _expected(args), spec.dask.scheduler_address, spec.dask.retries,
                        emulate=spec.experiment.emulate_lambda, network=network,
                        store_endpoint=spec.dask.store_endpoint)  # fmt: skip
    with Charged.of(spec.budget) as bill:
        _planned_egress(args, spec, bill, "dask")
        _experiment(args, spec, engine)
    return 0


def _run_duckdb(args: argparse.Namespace) -> int:
    from aqbench.engines.duckdb.engine import DuckDBEngine

    spec = _spec(args, "duckdb")
    with Charged.of(spec.budget) as bill:
        _planned_egress(args, spec, bill, "duckdb")
        _experiment(args, spec, DuckDBEngine(store_of(spec).open(), _expected(args)))
    return 0


def _budget(args: argparse.Namespace) -> int:
    import math

    from aqbench.aws import budget
    from aqbench.cost import Prices
    from aqbench.sources.synth.generate import parse_size

    staged = bool(args.manifest) and Path(args.manifest).exists()
    if staged:
        from aqbench.storage.stage import Manifest

        data_bytes = Manifest.read(args.manifest).bytes
    else:
        data_bytes = int(args.data_gb * 1e9)
    object_bytes = parse_size(args.object_size)
    assume = budget.Assumptions(args.call_overhead_s, args.mb_s_per_vcpu, async_retries=args.async_retries)
    prices = Prices.from_config(json.loads(args.prices))
    projections = budget.project(json.loads(args.experiments), args.repetitions, data_bytes, object_bytes, prices,
                                 assume, args.architecture, args.study_objects)  # fmt: skip
    objects = math.ceil(data_bytes / object_bytes)
    off_aws = sum(budget.passes(json.loads(e), int(r)) for e, r in args.off_aws_experiments)
    besides = budget.Besides(
        staging_objects=objects if args.staging and not staged else 0,
        staging_memory_mb=args.staging_memory_mb,
        study_objects=0 if args.study_done or not args.study_objects else min(args.study_objects, objects),
        off_aws_runs=off_aws,
        image_gb=0.0 if args.image_built else budget.Besides.image_gb,
    )
    projections += budget.project_besides(besides, data_bytes, object_bytes, prices, assume, args.architecture)
    print(budget.report(projections, args.budget_usd, data_bytes), flush=True)
    spent = budget.Ledger(Path(args.ledger)).spent() if args.ledger else 0.0
    budget.guard(projections, args.budget_usd, spent)
    return 0


def _lambda_runtime(args: argparse.Namespace) -> int:
    from aqbench.aws import image
    from aqbench.engines.lithops.engine import lithops_config, prepare_environment

    prepare_environment(Path(args.lithops_home), Path(args.lithops_tmp))
    backend = json.loads(args.backend)
    if backend.get("name") != "aws_lambda":
        from aqbench.errors import ConfigError

        raise ConfigError("lambda-runtime is for the aws_lambda backend (lithops.backend: aws_lambda)")
    store = store_spec(args).open()
    config = lithops_config(backend, store.lithops_storage_config(), min(args.memory), args.timeout, 1)
    serverless, storage = image.handler(config)
    with Charged(args) as bill:
        record = image.build_and_deploy(
            serverless,
            storage,
            args.name,
            args.memory,
            backend.get("aws_lambda", {}).get("architecture", "x86_64"),
            int(args.timeout),
            Path(args.out),
            on_pushed=lambda image: bill.add(
                "runtime image (ECR, a month)", image["size_bytes"] / 1e9 * bill.prices.ecr_gb_month
            ),
        )
    print_json({k: record[k] for k in ("image", "digest", "architecture", "memory_mb", "size_bytes")})
    return 0


def _bench_generate(args: argparse.Namespace) -> int:
    from aqbench.bench import generate

    return _bench_report(generate, generate.run(args.size, args.repeats), args.json)


def _bench_kernels(args: argparse.Namespace) -> int:
    from aqbench.bench import kernels

    return _bench_report(kernels, kernels.run(args.size, args.repeats, args.fan_in), args.json)


def _bench_emulation(args: argparse.Namespace) -> int:
    from aqbench.bench import emulation

    result = emulation.run(args.size_mb, args.repeats, tuple(args.mbit), args.spin_s)
    return _bench_report(emulation, result, args.json)


def _bench_reducer(args: argparse.Namespace) -> int:
    from aqbench.bench import reducer

    result = reducer.run(args.fan_in, args.fan_in_delayed, args.delay_ms, args.threads, args.repeats)
    return _bench_report(reducer, result, args.json)


def _bench_engines(args: argparse.Namespace) -> int:
    from aqbench.engines.lithops.engine import prepare_environment

    prepare_environment(Path(args.lithops_home), Path(args.lithops_tmp))
    from aqbench.bench import engines

    logging.getLogger("distributed").setLevel(logging.ERROR)
    import pyarrow.parquet as pq

    expected = _expected(args)
    if args.objects:
        expected = dict(list(expected.items())[: args.objects])
    reference = pq.read_table(args.reference) if args.reference else None
    with Charged(args) as bill:
        if args.off_aws:  # every engine reads the objects from this machine, each repeat: S3 egress, planned
            from aqbench.cost import egress_cost

            gb = sum(e.size for e in expected.values()) / 1e9
            passes = BENCH_ENGINE_PASSES * args.repeats
            bill.add("bench engines (S3 egress)", passes * egress_cost(gb, len(expected), bill.prices))
        result = engines.run(store_spec(args), expected, args.repeats, json.loads(args.backend), reference)
    return _bench_report(engines, result, args.json)


BENCH_ENGINE_PASSES = 10
"""Passes over its objects ``aqbench bench engines`` makes per repeat, taken high (it runs eight
engines and readers): what the budget charges and projects for it on AWS."""


def _bench_report(module, result: dict, json_path: str | None) -> int:
    print(module.report(result), flush=True)
    if json_path:
        from aqbench.atomic import atomic_path

        with atomic_path(json_path) as tmp:
            tmp.write_text(json.dumps(result, indent=1) + "\n")
    return 0


def _emulated_lambda(args: argparse.Namespace) -> int:
    """Start the emulated Lambda platform and keep it up until interrupted (Ctrl-C or SIGTERM)."""
    import signal
    import threading

    from aqbench.emulated.network import Network
    from aqbench.emulated.platform import emulated_lambda
    from aqbench.errors import ConfigError

    if args.memory_mb < 128 or args.memory_mb > 10240:
        raise ConfigError(f"--memory-mb {args.memory_mb}: Lambda's memory sizes are 128-10240 MB")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    network = Network() if args.shape_network else None
    with emulated_lambda(Path(args.state), args.memory_mb, workers=args.workers, keep_alive_s=args.keep_alive,
                         timeout_s=args.timeout, network=network) as platform:  # fmt: skip
        print_json({"lithops_config_file": str(platform.config_file), "memory_mb": platform.memory_mb,
                    "workers": platform.workers, "emulated": platform.emulated})  # fmt: skip
        print(f"export LITHOPS_CONFIG_FILE={platform.config_file}  # then run any Lithops program; Ctrl-C stops",
              flush=True)  # fmt: skip
        stop.wait()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = subcommand(
        sub,
        "run-lithops",
        _run_lithops,
        "run one experiment (a grid of configurations, N repetitions) as Lithops map/reduce jobs",
        "Every run is verified against the reference of the objects it read and its line "
        "count reconciled with the manifest; one tidy row per call goes to calls.parquet, one per run "
        "to runs.parquet. Its settings are its spec (the workflow writes it: snakemake -c1 "
        "results/<profile>/specs/lithops/<experiment>.json).",
        parents=(experiment_options(),),
    )
    p.add_argument("--scratch-prefix", default="runs/", help="key prefix for intermediate partials")
    p.add_argument(
        "--async-retries",
        type=int,
        default=0,
        help="aws: times Lambda itself reruns a failed asynchronous invocation (lambda-runtime sets 0 on its "
        "functions; Lambda's default is 2)",
    )

    subcommand(
        sub,
        "run-dask",
        _run_dask,
        "run one experiment on a Dask cluster: the shared kernel as tasks, or idiomatic Dask",
        "kernel 'arrow'/'seed' runs the shared kernel as Dask tasks; kernel 'idiomatic' is "
        "dask.bag + dataframe groupby. Every run is verified like the Lithops runs. Its settings are its "
        "spec (results/<profile>/specs/dask/<experiment>.json).",
        parents=(experiment_options(),),
    )

    subcommand(
        sub,
        "run-duckdb",
        _run_duckdb,
        "run one experiment on this machine alone: one DuckDB query over every staged object, every core",
        "The single machine many users would pick instead of a cluster or functions: the objects "
        "stream in from the store (each checked against the manifest), one DuckDB query aggregates "
        "them over every core. Verified against the reference like every run. Its settings are its "
        "spec (results/<profile>/specs/duckdb/<experiment>.json).",
        parents=(experiment_options(),),
    )

    p = subcommand(
        sub,
        "budget",
        _budget,
        "project what the Lithops experiments will cost on AWS Lambda; refuse above the budget",
        "Prints the projected cost of every enabled Lithops experiment (the cost model over the grid, the "
        "data size and pessimistic per-call times) and exits 2 with one line when it exceeds the budget.",
    )
    p.add_argument("--experiments", required=True, help="JSON: the profile's lithops.experiments")
    p.add_argument("--repetitions", type=int, default=DEFAULTS.lithops.repetitions, help="default repetitions")
    p.add_argument("--manifest", help="the staging manifest, for the data size once it exists")
    p.add_argument("--data-gb", type=float, default=DEFAULTS.aws.expected_data_gb, help="data size without one")
    p.add_argument("--object-size", default=DEFAULTS.data.object_size, help="size of one staged object")
    p.add_argument("--prices", default=json.dumps(PRICES), help="JSON: the profile's prices")
    p.add_argument("--budget-usd", type=float, default=DEFAULTS.aws.budget_usd, help="the budget")
    p.add_argument("--call-overhead-s", type=float, default=DEFAULTS.aws.call_overhead_s, help="per call")
    p.add_argument("--mb-s-per-vcpu", type=float, default=DEFAULTS.aws.mb_s_per_vcpu, help="per vCPU")
    p.add_argument("--architecture", default="x86_64", choices=("x86_64", "arm64"), help="Lambda architecture")
    p.add_argument("--ledger", help="what earlier experiments were billed (budget.json)")
    p.add_argument("--async-retries", type=int, default=0, help="Lambda's own reruns of a failed call")
    g = p.add_argument_group("besides the Lithops experiments")
    g.add_argument("--staging", action="store_true", help="the data are staged by Lambda calls (openaq-lithops)")
    g.add_argument("--staging-memory-mb", type=int, default=2048, help="the staging calls' memory size")
    g.add_argument("--study-objects", type=int, default=0, help="objects stage-study copies through this machine")
    g.add_argument("--study-done", action="store_true", help="stage-study has run already")
    g.add_argument(
        "--off-aws-experiments",
        nargs=2,
        action="append",
        default=[],
        metavar=("EXPERIMENTS", "REPS"),
        help="JSON experiments of an engine reading the bucket from this machine, and its repetitions",
    )
    g.add_argument("--image-built", action="store_true", help="the runtime image is in ECR already")

    p = subcommand(
        sub,
        "emulated-lambda",
        _emulated_lambda,
        "start emulated Lambdas of one memory size for any Lithops program; print its Lithops configuration",
        "Starts the local S3 server (Lithops' storage, a bucket 'lithops') and the emulated Lambda service "
        "(environments held to the memory size's CPU share and memory, warm between jobs), writes "
        "STATE/lithops.yaml and waits until interrupted. Run any program with LITHOPS_CONFIG_FILE set to it.",
    )
    p.add_argument("--state", required=True, help="folder for the server's data, the service and lithops.yaml")
    p.add_argument("--memory-mb", type=int, default=1024, help="the functions' memory size (MB)")
    p.add_argument("--workers", type=int, help="Lambdas at once (default: as many as fit this host's cores)")
    p.add_argument("--keep-alive", type=float, default=600.0, help="seconds an idle environment stays warm")
    p.add_argument("--timeout", type=float, help="Lambda's timeout per invocation (s; default: none)")
    p.add_argument("--shape-network", action="store_true", help="give each environment Lambda's link rate")

    p = subcommand(
        sub,
        "lambda-runtime",
        _lambda_runtime,
        "build and deploy the kernels' Lambda runtime (a container image); record its digest",
        "Builds runtime/aws_lambda/Dockerfile for one platform with no attestations (docker buildx) and the "
        "host's Python, pushes it to your account's ECR where Lithops looks for it, deploys (or brings up to "
        "date) a function per memory size with no automatic async retries, stores Lithops' runtime metadata, "
        "and writes what was deployed. Needs Docker.",
        parents=(store_options(), lithops_options(), ledger_options()),
    )
    p.add_argument("--name", required=True, help="the image name (an ECR repository:tag)")
    p.add_argument("--memory", type=int, nargs="+", required=True, help="memory sizes to deploy (MB)")
    p.add_argument("--timeout", type=float, default=900, help="the functions' timeout (s)")
    p.add_argument("--out", required=True, help="JSON record of the deployed runtime (provenance)")

    bench = subcommand(sub, "bench", lambda a: bench.print_help() or 2, "benchmarks: a figure beside its reference")
    kinds = bench.add_subparsers(dest="bench", required=True, metavar="BENCH")
    p = subcommand(
        kinds, "generate", _bench_generate, "the synthetic generator's MB/s on one core beside raw disk writes"
    )
    p.add_argument("--size", default="250MB", help="data generated per run")
    p.add_argument("--repeats", type=int, default=3, help="runs; medians are reported")
    p.add_argument("--json", help="also write the figures to this JSON file")
    p = subcommand(
        kinds,
        "kernels",
        _bench_kernels,
        "each kernel's map MB/s beside a bare parse + group-by of the same object; peak RSS; the reduce's fan-in",
    )
    p.add_argument("--size", help="size of the benchmarked object", default=DEFAULTS.bench.object_size)
    p.add_argument("--fan-in", type=int, help="partials merged by a reducer", default=DEFAULTS.bench.fan_in)
    p.add_argument("--repeats", type=int, help="runs; medians are reported", default=DEFAULTS.bench.repeats)
    p.add_argument("--json", help="also write the figures to this JSON file")
    p = subcommand(
        kinds,
        "emulation",
        _bench_emulation,
        "the emulated Lambda: a call's CPU share beside M/1769, its link's S3 read MB/s beside its rate",
    )
    p.add_argument("--size-mb", type=int, default=25, help="size of the object read")
    p.add_argument("--mbit", type=int, nargs="+", default=[625, 200], help="link rates to measure (Mbit/s)")
    p.add_argument("--repeats", type=int, default=3, help="calls per size and reads per link; medians are reported")
    p.add_argument("--spin-s", type=float, default=1.5, help="how long each busy call runs (s)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    p = subcommand(
        kinds,
        "reducer",
        _bench_reducer,
        "a reducer's merge of many partials from a local S3 server: one request at a time against Lithops' 64",
    )
    p.add_argument("--fan-in", type=int, default=2000, help="partials merged on bare loopback")
    p.add_argument("--fan-in-delayed", type=int, default=200, help="partials merged with --delay-ms a request")
    p.add_argument("--delay-ms", type=float, default=80.0, help="delay before each request (a non-local link's)")
    p.add_argument("--threads", type=int, default=64, help="requests in flight for the concurrent merge")
    p.add_argument("--repeats", type=int, default=3, help="merges of each kind; medians are reported")
    p.add_argument("--json", help="also write the figures to this JSON file")
    p = subcommand(
        kinds,
        "engines",
        _bench_engines,
        "every engine as its users run it on staged data, same terms (emulation off), beside the bare parse",
        parents=(store_options(), lithops_options(), ledger_options()),
    )
    p.add_argument("--manifest", required=True, help="the staging manifest of the data to run on")
    p.add_argument("--reference", help="the staged objects' reference partials: count the differences of the "
                   "engines that are not exact")  # fmt: skip
    p.add_argument("--objects", type=int, default=0, help="the first N staged objects only (0: all)")
    p.add_argument("--repeats", type=int, default=5, help="rounds; medians and ranges are reported")
    p.add_argument("--json", help="also write the figures to this JSON file")
