"""The paper of a finished run, rebuilt from its results alone: no data, no experiment, under a minute.

``make paper`` runs it on the committed canonical run (``results/default``): every figure is
drawn again from the metrics and the simulation's tables, the macros and tables are computed
again, and LaTeX builds the PDF. The files it reads are the ones the workflow's rules hand to
the same verbs; a reader without the 1 GB of data sees the numbers come from the metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aqbench.errors import ConfigError

KEPT = ("metrics", "bench", "scale", "benchmarks", "reference/summary.json", "reference/aggregates.csv.gz",
        "staged/manifest.json", "data/generation.json")  # fmt: skip
"""What git keeps of a run besides its generated files and PDF (.gitignore says the same)."""

NEEDED = ("metrics/summary.parquet", "metrics/calls.parquet", "bench/kernels.json", "scale/validation.csv",
          "scale/projection.csv", "reference/summary.json", "staged/manifest.json")  # fmt: skip


def reference_csv(results: Path) -> Path:
    """The reference aggregates: as the workflow wrote them, or the compressed copy kept in git."""
    for name in ("reference/aggregates.csv", "reference/aggregates.csv.gz"):
        if (results / name).exists():
            return results / name
    raise ConfigError(f"{results}/reference/aggregates.csv(.gz) is missing: run the workflow (make reproduce)")


def timed_benchmarks(results: Path) -> list[Path]:
    """The benchmarks of the jobs before the report, as the workflow sums them (report and paper come after)."""
    folder = results / "benchmarks"
    return sorted(p for p in folder.rglob("*.tsv") if p.relative_to(folder).parts[0] not in ("report", "paper"))


def rebuild(results: Path, source: Path, prices: dict[str, Any], draft: bool = False) -> int:
    """Figures, macros, tables and the PDF of ``results``; the PDF's page count."""
    from aqbench.report import figures, tables
    from aqbench.report.figure_names import FIGURES, SCALE_FIGURES
    from aqbench.report.paper import build_paper

    missing = [n for n in NEEDED if not (results / n).exists()]
    if missing:
        raise ConfigError(f"{results} lacks {', '.join(missing)}: run the workflow first (make reproduce)")
    generated = results / "generated"
    reference = reference_csv(results)
    inputs = figures.Inputs(results / "metrics", reference, results / "bench" / "kernels.json", results / "scale",
                            results / "bench" / "engines.json")  # fmt: skip
    for name in FIGURES + SCALE_FIGURES:
        figures.draw(name, inputs, generated / "figures" / f"{name}.pdf", generated / "figures" / f"{name}.png")
    benchmarks = timed_benchmarks(results)
    generation = results / "data" / "generation.json"
    tables.build(
        results / "metrics",
        reference,
        results / "reference" / "summary.json",
        results / "staged" / "manifest.json",
        generation if generation.exists() else None,
        results / "bench" / "kernels.json",
        benchmarks,
        prices,
        generated,
        results / "scale",
        reducer_bench=results / "bench" / "reducer.json",
        engines_bench=results / "bench" / "engines.json",
    )
    return build_paper(source, generated, results / "paper.pdf", draft=draft)
