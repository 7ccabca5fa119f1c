"""Data and storage verbs: run-record, generate, import-legacy, fetch-openaq, storage, preflight, stage,
stage-study, stage-openaq.

Longer than most modules: argument parsing, one short handler and one ``subcommand`` block per
verb; the work is in :mod:`aqbench.sources` and :mod:`aqbench.storage`.
"""

from __future__ import annotations

import argparse
import json
import logging

from aqbench.cli.common import (
    Charged,
    ledger_options,
    lithops_options,
    print_json,
    store_from_args,
    store_options,
    store_spec,
    subcommand,
)
from aqbench.settings import DEFAULTS

log = logging.getLogger(__name__)


def _generate(args: argparse.Namespace) -> int:
    from aqbench.sources.synth.generate import generate, plan_dataset

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
    print_json({k: meta[k] for k in ("objects", "bytes", "lines", "malformed_lines", "seconds")})
    return 0


def _import_legacy(args: argparse.Namespace) -> int:
    from aqbench.sources.legacy import import_legacy

    print_json(import_legacy(args.sources, args.out, args.object_size))
    return 0


def _fetch_openaq(args: argparse.Namespace) -> int:
    from aqbench.sources.archive import fetch

    start, end = _period(args)
    print_json(fetch(args.out, args.country, start, end, args.max_locations, args.object_size, progress=not args.quiet))
    return 0


def _stage_openaq(args: argparse.Namespace) -> int:
    from pathlib import Path

    from aqbench.engines.lithops.engine import prepare_environment

    prepare_environment(Path(args.lithops_home), Path(args.lithops_tmp))  # before Lithops is imported
    import os

    from aqbench.engines.lithops.engine import lithops_config
    from aqbench.sources.synth.generate import parse_size
    from aqbench.storage import StoreSpec
    from aqbench.storage.archive_stage import ArchiveStaging, archive_client, list_files, stage_archive
    from aqbench.storage.stage import write_reference

    start, end = _period(args)
    spec = store_spec(args)
    if args.archive_local:  # offline: a bucket of the profile's local S3 server plays the public archive
        archive = StoreSpec("s3-local", args.archive_bucket, {"state_dir": spec.settings["state_dir"]})
    else:
        archive = StoreSpec("public", args.archive_bucket, {"region": "us-east-1"})
    files = list_files(
        archive_client(archive), args.archive_bucket, args.country, start, end, args.max_locations, not args.quiet
    )
    how = ArchiveStaging(archive, args.country, args.prefix, parse_size(args.object_size), args.files_per_call)
    config = lithops_config(
        json.loads(args.backend), spec.open().lithops_storage_config(), args.memory_mb, args.timeout_s,
        os.cpu_count() or 1,
    )  # fmt: skip
    calls: list[dict] = []
    with Charged(args) as bill:
        try:
            manifest, partials, stats = stage_archive(files, spec, how, config, not args.quiet, calls)
        finally:
            from aqbench.cost import lithops_run_cost

            bill.add("staging (Lambda)", lithops_run_cost(calls, bill.prices, args.timeout_s))
    write_reference(partials, args.reference)
    manifest.write(args.manifest)
    print_json(stats | {"bytes": manifest.bytes, "records": manifest.records})
    return 0


def _storage(args: argparse.Namespace) -> int:
    from aqbench.storage.server import LocalS3Server

    server = LocalS3Server(args.state, args.host)
    if args.action == "up":
        print(server.up(timeout=args.timeout).endpoint, flush=True)
        return 0
    if args.action == "down":
        print("stopped" if server.down() else "not running", flush=True)
        return 0
    info = server.info()
    healthy = info is not None and server.healthy(info)
    print_json(
        {
            "running": info is not None,
            "healthy": healthy,
            "endpoint": info.endpoint if info else None,
            "pid": info.pid if info else None,
        }
    )
    return 0 if healthy else 1


def _preflight(args: argparse.Namespace) -> int:
    import os

    from aqbench import preflight

    # the s3-local server is started after the preflight; only the other kinds open a store here
    store = store_from_args(args) if args.storage == "aws" else None
    built = bool(args.runtime_record) and os.path.exists(args.runtime_record)
    checked = preflight.run(store, args.scheduler_address, json.loads(args.backend), tuple(args.memory), built)
    print_json({"ok": True, "checked": checked})
    return 0


def _run_record(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime
    from pathlib import Path

    from aqbench.atomic import atomic_path
    from aqbench.engines.runs import environment

    record = environment({"profile": args.profile, "started_utc": datetime.now(UTC).isoformat(timespec="seconds")})
    with atomic_path(Path(args.out)) as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
    print_json(record)
    return 0


def _stage_study(args: argparse.Namespace) -> int:
    import pyarrow.parquet as pq

    from aqbench.storage.stage import Manifest, first_objects, stage_study_layout, write_reference

    manifest, reference = Manifest.read(args.manifest), pq.read_table(args.reference)
    with Charged(args) as bill:
        if args.off_aws:  # every object read to this machine, converted, and put back
            from aqbench.cost import egress_cost

            first = manifest.objects[: args.objects]
            gb = sum(o.bytes for o in first) / 1e9
            bill.add("stage-study (egress)", egress_cost(gb, len(first), bill.prices) + len(first) * bill.prices.s3_put)
        study, partials = stage_study_layout(manifest, reference, store_from_args(args), args.objects)
    sources, source_partials = first_objects(manifest, reference, args.objects)
    write_reference(source_partials, args.out_sources_reference)
    sources.write(args.out_sources_manifest)
    write_reference(partials, args.out_reference)
    study.write(args.out_manifest)
    print_json({k: v for k, v in study.to_dict().items() if k != "objects"})
    return 0


def _stage(args: argparse.Namespace) -> int:
    from aqbench.storage.stage import stage, write_reference

    manifest, partials = stage(args.data, store_from_args(args), args.prefix, jobs=args.jobs, progress=not args.quiet)
    write_reference(partials, args.reference)
    manifest.write(args.manifest)
    print_json({k: v for k, v in manifest.to_dict().items() if k != "objects"})
    return 0


def archive_options() -> argparse.ArgumentParser:
    """What both archive sources fetch: a country's locations over a period, cut into objects."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("the archive")
    g.add_argument("--country", help="ISO-2 country code", default=DEFAULTS.data.openaq_archive.country)
    g.add_argument("--start", help="first day, YYYY-MM-DD", default=DEFAULTS.data.openaq_archive.start)
    g.add_argument("--end", help="last day, YYYY-MM-DD", default=DEFAULTS.data.openaq_archive.end)
    g.add_argument(
        "--max-locations",
        type=int,
        help="at most this many locations (lowest ids)",
        default=DEFAULTS.data.openaq_archive.max_locations,
    )
    g.add_argument("--object-size", help="approximate size of one object", default=DEFAULTS.data.object_size)
    return p


def _period(args: argparse.Namespace):
    """--start and --end as dates, start first."""
    from datetime import date

    from aqbench.errors import ConfigError

    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    except ValueError as exc:
        raise ConfigError(f"dates must be YYYY-MM-DD ({exc})") from exc
    if end < start:
        raise ConfigError(f"end {end} is before start {start}: give start <= end")
    return start, end


def register(sub: argparse._SubParsersAction) -> None:
    p = subcommand(
        sub,
        "run-record",
        _run_record,
        "record the machine and code a workflow run starts on (its first step)",
        "Write what this run starts on: CPU, cores, memory, kernel, Python and package versions, "
        "the commit and the lock's hash (no secrets). The workflow's first rule: every rule that "
        "starts from nothing takes this file, which is never committed, so a fresh clone reruns "
        "the whole study instead of trusting the committed canonical results.",
    )
    p.add_argument("--profile", required=True, help="the workflow profile's name")
    p.add_argument("--out", required=True, help="JSON file to write")

    p = subcommand(
        sub,
        "generate",
        _generate,
        "write a synthetic OpenAQ dataset in the exact legacy format",
        "Write deterministic synthetic OpenAQ realtime data as time-ordered fetch batches "
        "(df00000.ndjson, ...). The same seed and size give byte-identical objects.",
    )
    p.add_argument("--size", help="total size, e.g. 20MB, 1GB, 50GB", default=DEFAULTS.data.synthetic.size)
    p.add_argument("--seed", type=int, help="random seed", default=DEFAULTS.data.synthetic.seed)
    p.add_argument("--out", required=True, help="folder to create (must not exist or be empty)")
    p.add_argument("--object-size", help="approximate size of one object", default=DEFAULTS.data.object_size)
    p.add_argument(
        "--days", type=int, help="period covered (sets the number of stations)", default=DEFAULTS.data.synthetic.days
    )
    p.add_argument("--stations", type=int, default=None, help="number of stations (overrides --days)")
    p.add_argument(
        "--bad-fraction",
        type=float,
        help="share of malformed lines",
        default=DEFAULTS.data.synthetic.bad_fraction,
    )
    p.add_argument(
        "--sentinel-fraction",
        type=float,
        help="share of -999 sentinel values",
        default=DEFAULTS.data.synthetic.sentinel_fraction,
    )
    p.add_argument("--jobs", type=int, default=1, help="parallel processes (output is the same)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = subcommand(
        sub,
        "import-legacy",
        _import_legacy,
        "re-cut a local copy of OpenAQ's legacy realtime files into objects of about 25 MB",
        "Copy the lines of legacy .ndjson/.ndjson.gz files (the old openaq-fetches bucket) "
        "byte for byte into df00000.ndjson, ... of about --object-size each.",
    )
    p.add_argument("sources", nargs="+", help="legacy files or folders")
    p.add_argument("--out", required=True, help="folder to create")
    p.add_argument("--object-size", help="approximate size of one object", default=DEFAULTS.data.object_size)

    p = subcommand(
        sub,
        "fetch-openaq",
        _fetch_openaq,
        "download real measurements from the public openaq-data-archive bucket (needs the internet)",
        "Download one country's per-location daily CSVs (anonymous requests) and convert "
        "every row into a legacy realtime line, cut into objects of about --object-size.",
        parents=(archive_options(),),
    )
    p.add_argument("--out", required=True, help="folder to create")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = subcommand(
        sub,
        "storage",
        _storage,
        "start, stop or check the local S3-compatible server (SeaweedFS on 127.0.0.1)",
        "Manage the loopback S3 server of the s3-local storage profile. 'up' is idempotent "
        "and prints the endpoint once the server accepts writes; 'status' exits 1 when it is not healthy.",
    )
    p.add_argument("action", choices=("up", "down", "status"))
    p.add_argument("--state", default="results/default/s3", help="folder holding the server's data and state")
    p.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for the server to be healthy")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="up: the address to listen on; another than 127.0.0.1 lets a Dask cluster's workers on other hosts "
        "reach the store (set dask.store_endpoint to the endpoint printed; docs/dask-cluster.md)",
    )

    p = subcommand(
        sub,
        "preflight",
        _preflight,
        "check the profile's endpoints before any work: bucket, Dask scheduler, and on AWS Lambda the account",
        "Exits 2 with one line naming the setting when a bucket is missing or unreadable or the Dask scheduler "
        "does not answer; on AWS Lambda also when the credentials, regions, role, permissions, concurrency or "
        "Docker are wrong, or a smoke invocation at the grid's largest memory size fails (docs/aws.md).",
        parents=(store_options(),),
    )
    p.add_argument(
        "--scheduler-address", help="the profile's dask.scheduler_address", default=DEFAULTS.dask.scheduler_address
    )
    p.add_argument("--backend", default='{"name": "localhost"}', help="JSON: the Lithops compute backend")
    p.add_argument("--memory", type=int, nargs="*", default=[], help="aws_lambda: every memory size the grids use")
    p.add_argument("--runtime-record", help="aws_lambda: the runtime record; where it exists, no Docker is needed")

    p = subcommand(
        sub,
        "stage",
        _stage,
        "upload the dataset into the profile's bucket, verified, and write its manifest",
        "Upload data files into the bucket (skipping objects already there with the same "
        "sha256), read every uploaded object back to verify it, and write the manifest "
        "(key, bytes, sha256, CRC32C and the line account per object) and, computed from the "
        "source files, the reference partial of every object.",
        parents=(store_options(),),
    )
    p.add_argument("data", nargs="+", help="data files or folders")
    p.add_argument("--manifest", required=True, help="manifest JSON to write")
    p.add_argument("--reference", required=True, help="reference partials (Parquet) to write beside it")
    p.add_argument("--prefix", help="key prefix of the objects in the bucket", default=DEFAULTS.storage.prefix)
    p.add_argument("--jobs", type=int, default=4, help="parallel uploads")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = subcommand(
        sub,
        "stage-study",
        _stage_study,
        "copy the first staged objects into the study's layout (one JSON document each) for its own code",
        "Read the first --objects staged objects from the bucket (checked against the manifest), write "
        "each as the study's objects were (a DataFrame's to_json() of its records, nested columns kept) "
        "under <prefix>study/, read each back, and write their manifest and reference partials (their "
        "source objects': the same records), and the manifest and partials of those source objects "
        "(layout: study-sources, this build's kernels on the same records).",
        parents=(store_options(), ledger_options()),
    )
    p.add_argument("--manifest", required=True, help="the staging manifest")
    p.add_argument("--reference", required=True, help="its reference partials (Parquet)")
    p.add_argument("--objects", type=int, help="how many objects", default=DEFAULTS.data.study_layout_objects)
    p.add_argument("--out-manifest", required=True, help="manifest of the study-layout objects to write")
    p.add_argument("--out-reference", required=True, help="their reference partials to write")
    p.add_argument("--out-sources-manifest", required=True, help="manifest of their source objects to write")
    p.add_argument("--out-sources-reference", required=True, help="the source objects' reference partials")

    p = subcommand(
        sub,
        "stage-openaq",
        _stage_openaq,
        "stage at scale: Lithops calls fetch the public OpenAQ archive straight into the bucket",
        "List one country's location-day files of the openaq-data-archive bucket for the period, "
        "then stage them with Lithops calls (on AWS Lambda in the aws profile): each call fetches "
        "--files-per-call files, converts their rows into legacy lines, writes objects of about "
        "--object-size into the bucket (read back and checked) and leaves its part of the manifest "
        "there, with the objects' reference partials computed from the bytes before upload. "
        "A rerun stages only the groups whose part is missing or whose objects changed.",
        parents=(store_options(), lithops_options(), archive_options(), ledger_options()),
    )
    p.add_argument(
        "--files-per-call",
        type=int,
        help="archive files one call fetches",
        default=DEFAULTS.data.openaq_archive.files_per_call,
    )
    p.add_argument(
        "--memory-mb", type=int, help="memory of a staging call", default=DEFAULTS.data.openaq_archive.call_memory_mb
    )
    p.add_argument(
        "--timeout-s", type=int, help="time limit of a call", default=DEFAULTS.data.openaq_archive.call_timeout_s
    )
    p.add_argument("--prefix", help="key prefix of the objects in the bucket", default=DEFAULTS.storage.prefix)
    p.add_argument("--archive-bucket", help="the archive's bucket", default=DEFAULTS.data.openaq_archive.bucket)
    p.add_argument(
        "--archive-local",
        action="store_true",
        help="offline: the archive bucket is on the local S3 server (--state), not the public one",
    )
    p.add_argument("--manifest", required=True, help="manifest JSON to write")
    p.add_argument("--reference", required=True, help="reference partials (Parquet) to write beside it")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
