"""Aggregate and verify: the reference (or any kernel) in one process, and the exact comparison."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from aqbench.cli.common import KERNELS, print_json, store_from_args, store_options, subcommand

log = logging.getLogger(__name__)


def _manifest_sources(args: argparse.Namespace) -> list:
    from aqbench.inputs import FetchedObject
    from aqbench.storage.stage import Manifest

    store = store_from_args(args)
    # each object checked against the manifest's length and CRC32C as it is read
    return [
        FetchedObject(o.key, lambda o=o: store.get(o.key, o.expected)) for o in Manifest.read(args.manifest).objects
    ]


def _aggregate(args: argparse.Namespace) -> int:
    from aqbench.aggregates import write_csv
    from aqbench.atomic import atomic_path
    from aqbench.errors import ConfigError
    from aqbench.inputs import find_data_files
    from aqbench.kernels.reference import aggregate_files

    if args.partials:
        return _merge_partials(args)
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
    log.info("aggregated %d files in %.2f s", len(files), time.perf_counter() - started)
    print_json(counts.to_dict() | {"groups": aggregates.num_rows}, to=args.summary)
    return 0


def _merge_partials(args: argparse.Namespace) -> int:
    """The whole dataset's reference as the merge of its objects' reference partials.

    For data staged by Lithops calls (openaq-lithops), which never passes through this machine:
    each call computed its objects' partials with the reference query from the bytes it uploaded."""
    import pyarrow.parquet as pq

    from aqbench.aggregates import write_csv
    from aqbench.errors import ConfigError
    from aqbench.storage.stage import Manifest, subset_reference

    if args.paths or not args.manifest:
        raise ConfigError("--partials takes the staging --manifest (for the line account) and no data PATHs")
    manifest = Manifest.read(args.manifest)
    keys = [o.key for o in manifest.objects]
    aggregates = subset_reference(pq.read_table(args.partials), keys)
    write_csv(aggregates, args.out)
    print_json(manifest.counts(keys).to_dict() | {"groups": aggregates.num_rows}, to=args.summary)
    return 0


def _verify_bucket(args: argparse.Namespace) -> int:
    from aqbench.errors import VerificationError
    from aqbench.storage.stage import Manifest

    manifest = Manifest.read(args.manifest)
    store = store_from_args(args)
    wrong = []
    for o in manifest.objects:
        info = store.head(o.key)
        if info is None or info.size != o.bytes or info.metadata.get("sha256") != o.sha256:
            wrong.append(o.key)
    if wrong:
        raise VerificationError(
            f"{len(wrong)} of {len(manifest.objects)} staged objects are missing or changed in the bucket "
            f"(first: {wrong[0]}): stage the data again"
        )
    print_json({"objects": len(manifest.objects), "bytes": manifest.bytes, "present_as_staged": True}, to=args.out)
    return 0


def _verify(args: argparse.Namespace) -> int:
    from aqbench.aggregates import compare, read_csv
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
    print_json(report, to=args.out)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = subcommand(
        sub,
        "aggregate",
        _aggregate,
        "daily count/sum/average/max per station, day, parameter and unit, in one process",
        "Aggregate OpenAQ legacy lines (.ndjson or .ndjson.gz files, or folders of them) "
        "into one CSV row per key, and print a JSON line accounting for every line read.",
        parents=(store_options(),),
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="data files or folders holding them")
    p.add_argument("--manifest", help="read the objects of this staging manifest from the store instead")
    p.add_argument(
        "--partials",
        metavar="FILE.parquet",
        help="merge these reference partials of the --manifest's objects instead of reading any line",
    )
    p.add_argument("--out", required=True, metavar="FILE.csv", help="aggregate CSV to write")
    p.add_argument("--summary", metavar="FILE.json", help="also write the summary line to this file")
    p.add_argument("--kernel", choices=KERNELS, default="reference", help="which kernel computes it")
    p.add_argument("--reducers", type=int, default=1, help="hash partitions of the reduce (map/reduce kernels)")
    p.add_argument("--threads", type=int, default=None, help="threads for the engine (default: all cores)")

    p = subcommand(
        sub,
        "verify",
        _verify,
        "compare an aggregate CSV with the reference; fail on any difference",
        "Keys, counts and maxima must match exactly, sums and averages to 1e-9 relative.",
    )
    p.add_argument("--expected", required=True, help="the reference aggregate CSV")
    p.add_argument("--actual", required=True, help="the aggregate CSV to check")
    p.add_argument("--summary", help="the run's summary JSON, whose records_read must equal ...")
    p.add_argument("--manifest", help="... the record count of this staging manifest")
    p.add_argument("--out", required=True, help="verification report (JSON), written only when equal")

    p = subcommand(
        sub,
        "verify-bucket",
        _verify_bucket,
        "check that every object of a staging manifest is in the bucket as staged (no download)",
        "One HEAD request per object: its size and the sha256 that staging kept in its metadata "
        "must be the manifest's. For data staged by Lithops calls, whose bytes each call read back "
        "and checked after upload, and which should not be downloaded to this machine again.",
        parents=(store_options(),),
    )
    p.add_argument("--manifest", required=True, help="the staging manifest")
    p.add_argument("--out", required=True, help="report (JSON), written only when every object is there")
