"""simulate: the calibrated simulation of Lithops on Lambda, checked against our runs, projected to 50 GB."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from aqbench.cli.common import print_json, subcommand
from aqbench.settings import DEFAULTS, PRICES

SOURCES = """\
inputs and where they come from:
  measured, from --metrics (this build's emulated Lithops calls and runs; see calibration.json):
    overhead_s           intercept of a least-squares line through the map calls' worker time,
                         less their CPU part, against MB read
    net_mb_s             1 / slope of that line, through the --link-mbit emulated link
    map_cpu_s_per_mb     median CPU seconds (user+system) per MB read, by kernel
    reduce_cpu_s_per_mb  median CPU seconds per MB of partials read by reducers
    partial_mb_per_input_mb  median bytes written / bytes read of the map calls
    cold_init_s, dispatch_s, job_setup_s, result_s, final_s   Lithops' own statistics and the
                         runs' wall times (medians)
  measured, from --bench (the kernel bench): a reducer's peak memory, the line through its merges
    of 2000 partials by one of R reducers and by a single one
  published, from --facts (a dated table, each entry with its source): Lambda's CPU share per MB,
    visible cores, timeout, per-environment network, scaling (1,000 environments per 10 s per
    function; the older regional burst), account concurrency, cold start of a pandas+pyarrow
    container, warm start, billed INIT, S3 first-byte latency; Lithops' max_workers, invoke rate
    and polling interval
  prices: --prices (the profile's dated prices)
"""


def canonical_calibration() -> Path:
    """The committed canonical run's calibration (the paper profile's), in this checkout."""
    from aqbench.checkout import repository_root

    marker = Path("results/paper/scale/calibration.json")
    return repository_root(marker) / marker


def _calibration(args: argparse.Namespace):
    from aqbench.emulated.platform import LOOPBACK_MONITORING_INTERVAL_S
    from aqbench.scale.calibration import calibrate

    return calibrate(Path(args.metrics), args.link_mbit, LOOPBACK_MONITORING_INTERVAL_S, _bench(args))


def _bench(args: argparse.Namespace) -> Path | None:
    return Path(args.bench) if args.bench else None


def _write_csv(table, path: Path) -> None:
    from aqbench.atomic import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)


def _simulate(args: argparse.Namespace) -> int:
    from aqbench.cost import Prices
    from aqbench.errors import ConfigError

    if args.job:
        return _what_if(args)
    if not args.validate and not args.project:
        raise ConfigError(
            "say what to simulate: --validate (our own runs), --project (the study's scale) or --job JOB.yaml"
        )
    if not args.out:
        raise ConfigError("--validate and --project need --out (the folder for their tables)")
    if args.project and not args.metrics:
        raise ConfigError("--project needs --metrics (the profile's metrics folder) to calibrate on")
    out = Path(args.out)
    started = time.perf_counter()
    summary: dict = {}
    if args.validate:
        summary["published"] = _validate_published(args, out)
    if args.validate and args.metrics:
        from aqbench.scale.validate import Link, validate, verdict

        link = Link(args.link_mbit, args.remote_mbit, args.remote_latency_ms / 1000)
        table, cal = validate(Path(args.metrics), link, _bench(args))
        _write_csv(table, out / "validation.csv")
        v = verdict(table)
        summary["validation"] = {
            "configurations": v.configurations,
            "median_abs_error": round(v.median_abs_error, 4),
            "worst_abs_error": round(v.worst_abs_error, 4),
            "statuses_agree": v.statuses_agree,
            "target_met": v.meets(),
        }
        print(
            f"validation: {v.configurations} configurations, median |error| {v.median_abs_error:.1%} (target <= 15%),"
            f" worst {v.worst_abs_error:.1%} (target <= 30%), timeouts predicted as measured: {v.statuses_agree}",
            flush=True,
        )
    elif args.metrics:
        cal = _calibration(args)
    if not args.metrics:
        summary["seconds"] = round(time.perf_counter() - started, 2)
        print_json(summary)
        return 0
    from aqbench.atomic import atomic_path

    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "calibration.json") as tmp:
        tmp.write_text(json.dumps(cal.to_dict(), indent=1) + "\n")
    if args.project:
        from aqbench.lambda_facts import read
        from aqbench.scale.project import (
            Grid,
            headline,
            optimum,
            project,
            sensitivity,
            study_configurations,
            with_cpu_ratio,
        )

        table = read(Path(args.facts))
        facts, ranges, cpu_said = with_cpu_ratio(cal, table.values, table.ranges)
        print(f"Lambda's CPU seconds per calibrating-host CPU second: {cpu_said}", flush=True)
        prices = Prices.from_config(json.loads(args.prices))
        grid = Grid(data_gb=args.data_gb, seeds=args.seeds)
        table = project(cal, facts, prices, grid, ranges)
        _write_csv(table, out / "projection.csv")
        _write_csv(optimum(table), out / "optimum.csv")
        _write_csv(study_configurations(cal, facts, prices, ranges), out / "study.csv")
        _write_csv(sensitivity(cal, facts, prices, table, grid, ranges), out / "sensitivity.csv")
        head = headline(cal, facts, table, grid, ranges) | {"cpu_ratio": cpu_said}
        with atomic_path(out / "floor.json") as tmp:
            tmp.write_text(json.dumps(head, indent=1) + "\n")
        print(
            f"fastest projected job: {head['fastest_wall_s']:.1f} s (p10-p90 {head['fastest_wall_s_p10']:.1f}-"
            f"{head['fastest_wall_s_p90']:.1f}); the floor its inputs allow: {head['floor_s']:.1f} s "
            f"(fastest/floor = {head['fastest_vs_floor']:.2f})",
            flush=True,
        )
        from aqbench.scale.alternatives import alternatives, crossover, dask_terms
        from aqbench.scale.project import lambda_at_sizes

        sizes = tuple(sorted({args.data_gb / 10, args.data_gb, args.data_gb * 10}))
        others = alternatives(cal, facts, prices, dask_terms(Path(args.metrics)), grid.object_mb, grid.seeds, sizes)
        _write_csv(others, out / "alternatives.csv")
        lam = lambda_at_sizes(cal, facts, prices, table, grid, ranges, sizes)
        _write_csv(lam, out / "lambda_sizes.csv")
        with atomic_path(out / "crossover.json") as tmp:
            tmp.write_text(json.dumps(crossover(lam, others), indent=1) + "\n")
        summary["projection"] = {"configurations": len(table), "data_gb": args.data_gb}
    summary["seconds"] = round(time.perf_counter() - started, 2)
    print_json(summary)
    return 0


def _validate_published(args: argparse.Namespace, out: Path) -> dict:
    """The held-out published jobs predicted from Lambda's published facts; published.csv."""
    from aqbench.lambda_facts import read
    from aqbench.scale.published import TARGET, read_jobs, validate

    held_out = read_jobs(Path(args.published))
    table = validate(read(Path(args.facts)), held_out, args.seeds)
    _write_csv(table, out / "published.csv")
    setting = sorted(set(read(Path(args.facts)).source_ids.values()))
    print(f"held-out published jobs (sources that set no input; inputs set by: {', '.join(setting)}):", flush=True)
    print(
        f"  {'job':44s} {'functions':>9s} {'MB each':>8s} {'published':>10s} {'predicted (p10-p90)':>22s} {'error':>7s}"
    )
    for r in table.itertuples():
        band = f"{r.predicted_s:.1f} ({r.predicted_s_p10:.1f}-{r.predicted_s_p90:.1f})"
        print(f"  {r.job[:44]:44s} {r.functions:9d} {r.mb_per_function:8.0f} {r.published_s:9.1f}s {band:>22s} "
              f"{r.error:+7.0%}")  # fmt: skip
    met = int(table["within_target"].sum()) if len(table) else 0
    print(f"  within {TARGET:.0%}: {met} of {len(table)}", flush=True)
    return {"jobs": len(table), "within_target": met, "sources": sorted(held_out.sources)}


def _what_if(args: argparse.Namespace) -> int:
    """One user's job (--job JOB.yaml) with the committed or given calibration."""
    from aqbench.cost import Prices
    from aqbench.errors import ConfigError
    from aqbench.lambda_facts import read
    from aqbench.scale.calibration import Calibration
    from aqbench.scale.job import JobFile, report, simulate_job

    if args.validate or args.project:
        raise ConfigError("--job simulates one job: leave out --validate and --project")
    job = JobFile.load(Path(args.job))
    if args.metrics:
        cal = _calibration(args)
    else:
        path = Path(args.calibration) if args.calibration else canonical_calibration()
        if not path.exists():
            raise ConfigError(f"no calibration at {path}: give --calibration or --metrics (make reproduce writes one)")
        saved = json.loads(path.read_text())
        if not saved.get("probe_core_mb_s"):
            raise ConfigError(f"{path} has no probe to carry CPU seconds to Lambda (an older calibration): "
                              "rerun `aqbench simulate --validate` or give --metrics")  # fmt: skip
        cal = Calibration.from_dict(saved)
    table = read(Path(args.facts))
    result = simulate_job(job, cal, table.values, table.ranges,
                          Prices.from_config(json.loads(args.prices)))  # fmt: skip
    print(report(job, result), flush=True)
    if args.out:
        from aqbench.atomic import atomic_path

        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(out) as tmp:
            tmp.write_text(json.dumps(result, indent=1) + "\n")
    return 0


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown, and the table of sources kept as written."""


def register(sub: argparse._SubParsersAction) -> None:
    from aqbench.lambda_facts import FACTS_FILE
    from aqbench.scale.published import JOBS_FILE

    p = subcommand(
        sub,
        "simulate",
        _simulate,
        "simulate Lithops on Lambda: checked against our runs (--validate), at the study's scale (--project)",
        "A discrete-event simulation (SimPy) of a Lithops map-reduce job on AWS Lambda, calibrated "
        "on this build's emulated runs. --validate simulates every Lithops configuration the "
        "profile measured on this host's terms and writes predicted against measured wall times; "
        "--project simulates one job over --data-gb in 25 MB objects for memory sizes 1024-10240 MB, "
        "1-8 objects per call, x86_64 and arm64, single and hash-partitioned reduce, and the "
        "study's own configurations, each 20 seeded times with the measured calls' spread (median, "
        "10th-90th percentiles), and their sensitivity to the published inputs known within a range; "
        "--job simulates one job of your own (see the fields below).",
    )
    from aqbench.scale.job import fields_help

    p.epilog = SOURCES + "\n" + fields_help()
    p.formatter_class = _Formatter
    p.add_argument("--metrics", help="the profile's metrics folder (results/<profile>/metrics)")
    p.add_argument("--validate", action="store_true", help="simulate the profile's own runs; write validation.csv")
    p.add_argument("--project", action="store_true", help="simulate the study's scale; write projection.csv")
    p.add_argument("--job", help="simulate one job described in this YAML file (fields below) and print it")
    p.add_argument(
        "--calibration",
        help="--job: the calibration to use (default: the committed canonical run's, results/paper/scale/"
        "calibration.json in the checkout; --metrics calibrates afresh)",
    )
    p.add_argument("--out", help="folder for calibration.json and the tables (--job: a JSON file of the result)")
    p.add_argument("--facts", default=str(FACTS_FILE), help="the dated table of published facts (YAML)")
    p.add_argument(
        "--published",
        default=str(JOBS_FILE),
        help="--validate: the held-out published jobs (YAML), from sources that set no input of --facts",
    )
    p.add_argument("--prices", default=json.dumps(PRICES), help="JSON: dated prices")
    p.add_argument("--data-gb", type=float, default=50.0, help="projected data size (the study's 50 GB)")
    p.add_argument("--seeds", type=int, help="seeded runs of every projected job", default=DEFAULTS.scale.seeds)
    p.add_argument("--bench", help="the kernel bench's JSON: a reducer's memory from its merges (else not modelled)")
    p.add_argument(
        "--link-mbit", type=float, help="the runs' emulated link", default=DEFAULTS.lithops.network.local_mbit
    )
    p.add_argument(
        "--remote-mbit", type=float, help="their non-local link", default=DEFAULTS.lithops.network.remote_mbit
    )
    p.add_argument(
        "--remote-latency-ms",
        type=float,
        help="their non-local request latency",
        default=DEFAULTS.lithops.network.remote_latency_ms,
    )
