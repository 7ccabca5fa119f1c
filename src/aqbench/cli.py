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

from aqbench import __version__
from aqbench.errors import AqbenchError

log = logging.getLogger(__name__)

KERNELS = ("reference",)


def _cmd_aggregate(args: argparse.Namespace) -> int:
    from aqbench.aggregates import write_csv
    from aqbench.atomic import atomic_path
    from aqbench.inputs import find_data_files
    from aqbench.kernels.reference import aggregate_files

    files = find_data_files(args.paths)
    started = time.perf_counter()
    with atomic_path(args.out) as tmp:  # proves the output is writable before the work
        result = aggregate_files(files, threads=args.threads)
        write_csv(result.aggregates, tmp)
    summary = result.counts.to_dict() | {"groups": result.aggregates.num_rows}
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
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="data files or folders holding them")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="aggregate CSV to write")
    p.add_argument("--summary", metavar="FILE.json", help="also write the summary line to this file")
    p.add_argument("--kernel", choices=KERNELS, default="reference", help="which kernel computes it")
    p.add_argument("--threads", type=int, default=None, help="threads for the engine (default: all cores)")
    p.set_defaults(func=_cmd_aggregate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aqbench",
        description="Serverless (Lithops) versus cluster (Dask) analysis of OpenAQ data.",
    )
    parser.add_argument("--version", action="version", version=f"aqbench {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    adders: list[Callable[[argparse._SubParsersAction], None]] = [_add_aggregate]
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
