"""The ``aqbench`` command: one subcommand per workflow step, each testable without Snakemake.

One module per stage registers its verbs: :mod:`.data` (run-record, generate, import-legacy,
fetch-openaq, storage, preflight, stage, stage-study, stage-openaq), :mod:`.aggregate`
(aggregate, verify, verify-bucket), :mod:`.engines` (run-lithops, run-dask, run-duckdb, budget,
lambda-runtime, bench kernels|emulation|reducer|engines), :mod:`.report` (metrics, figure,
report, paper), :mod:`.scale` (simulate), :mod:`.study` (study-env, study-2023). Errors of the user's
making (:class:`~aqbench.errors.AqbenchError`) end as one line on stderr and a non-zero
exit; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from aqbench import __version__
from aqbench.cli import aggregate, data, engines, report, scale, study
from aqbench.errors import AqbenchError

STAGES = (aggregate, data, engines, report, scale, study)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aqbench",
        description="Serverless (Lithops) versus cluster (Dask) analysis of OpenAQ data.",
    )
    parser.add_argument("--version", action="version", version=f"aqbench {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for stage in STAGES:
        stage.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
