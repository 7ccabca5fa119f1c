"""Report verbs: metrics, figure, report (tables and macros) and paper."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from aqbench.cli.common import print_json, subcommand
from aqbench.settings import DEFAULTS


def _metrics(args: argparse.Namespace) -> int:
    from aqbench.cost import Prices
    from aqbench.metrics import compute

    prices = Prices.from_config(json.loads(args.prices))
    summary = compute(sorted({Path(p).parent for p in args.runs}), prices, Path(args.out))
    print_json({"configurations": len(summary), "runs": int(summary["runs"].sum())})
    return 0


def _figure(args: argparse.Namespace) -> int:
    from aqbench.report.figures import Inputs, draw

    inputs = Inputs(
        Path(args.metrics),
        Path(args.reference) if args.reference else None,
        Path(args.bench) if args.bench else None,
        Path(args.scale) if args.scale else None,
        Path(args.engines_bench) if args.engines_bench else None,
    )
    draw(args.name, inputs, Path(args.pdf), Path(args.png))
    return 0


def _report(args: argparse.Namespace) -> int:
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
        Path(args.scale) if args.scale else None,
        args.max_probe_drift,
        Path(args.reducer_bench) if args.reducer_bench else None,
        Path(args.engines_bench) if args.engines_bench else None,
        Path(args.explained) if args.explained else None,
    )
    return 0


def _paper(args: argparse.Namespace) -> int:
    from aqbench.report.paper import build_paper

    pages = build_paper(Path(args.source), Path(args.generated), Path(args.out), draft=args.draft)
    print_json({"pdf": args.out, "pages": pages})
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from aqbench.report.figure_names import FIGURES, SCALE_FIGURES

    p = subcommand(
        sub, "metrics", _metrics, "per-call rows of every experiment -> tidy tables, per-configuration summaries, cost"
    )
    p.add_argument("runs", nargs="+", help="runs.parquet files of the experiments (their folders are read)")
    p.add_argument("--prices", required=True, help="JSON object of dated prices (the profile's prices section)")
    p.add_argument("--out", required=True, help="folder for calls/runs/summary.parquet")

    p = subcommand(sub, "figure", _figure, "draw one figure (PDF for the paper, PNG preview)")
    p.add_argument("name", choices=FIGURES + SCALE_FIGURES, help="the figure's name (its plotting function)")
    p.add_argument("--metrics", required=True, help="the metrics folder")
    p.add_argument("--reference", help="reference aggregate CSV (the maps)")
    p.add_argument("--bench", help="kernel benchmark JSON (kernel figure)")
    p.add_argument("--engines-bench", help="engines benchmark JSON (engines figure)")
    p.add_argument("--scale", help="the scale simulation's folder (scale_* figures)")
    p.add_argument("--pdf", required=True)
    p.add_argument("--png", required=True)

    p = subcommand(sub, "report", _report, "LaTeX tables and the macros file of every number in the paper")
    p.add_argument("--metrics", required=True)
    p.add_argument("--reference", required=True, help="reference aggregate CSV")
    p.add_argument("--reference-summary", required=True, help="reference summary JSON")
    p.add_argument("--manifest", required=True)
    p.add_argument("--generation", help="generation.json of synthetic data, if any")
    p.add_argument("--bench", help="kernel benchmark JSON")
    p.add_argument("--reducer-bench", help="reducer benchmark JSON (aqbench bench reducer)")
    p.add_argument("--engines-bench", help="engines benchmark JSON (aqbench bench engines)")
    p.add_argument("--explained", help="aqbench study-explain's record (absent: the paper says so)")
    p.add_argument(
        "--benchmarks",
        nargs="*",
        default=[],
        help="Snakemake benchmark TSVs of every rule before the report (their sum is quoted as the workflow's time)",
    )
    p.add_argument("--prices", required=True, help="JSON object of dated prices")
    p.add_argument("--scale", help="the scale simulation's folder (its macros and tables)")
    p.add_argument(
        "--max-probe-drift",
        type=float,
        help="the most a quoted run's probe may move",
        default=DEFAULTS.report.max_probe_drift,
    )
    p.add_argument("--out", required=True, help="folder for macros.tex and tables/")

    p = subcommand(sub, "paper", _paper, "build the paper with latexmk from paper/ and the generated files")
    p.add_argument("--source", default="paper", help="folder of main.tex and its sections")
    p.add_argument("--generated", required=True, help="folder of macros.tex, tables/ and figures/")
    p.add_argument("--out", required=True, help="the PDF to write")
    p.add_argument(
        "--draft",
        action="store_true",
        help="allow placeholders ([Name?]) for numbers, tables or figures not generated yet",
    )
