"""The committed canonical run (results/paper, the paper profile's): five runs of every
configuration, its numbers are what the report computes from its metrics, and `make paper`
rebuilds its paper from them alone through the workflow."""

from __future__ import annotations

import json
import shutil

import pytest

from aqbench.defaults import schema_default

from conftest import REPO

RESULTS = REPO / "results" / "paper"


def measured(text: str) -> list[str]:
    """The macros but the commit the report was built with (the checkout's, not the data's)."""
    return [line for line in text.splitlines() if not line.startswith("\\newcommand{\\aqReportCommit}")]


def timed_benchmarks(results):
    """The benchmarks of the rules before the report, as the workflow sums them (not report, paper)."""
    folder = results / "benchmarks"
    return sorted(p for p in folder.rglob("*.tsv") if p.relative_to(folder).parts[0] not in ("report", "paper"))


def test_the_committed_macros_are_what_the_report_computes_from_the_committed_metrics(tmp_path):
    from aqbench.report import tables

    benchmarks = timed_benchmarks(RESULTS)
    tables.build(
        RESULTS / "metrics",
        RESULTS / "reference" / "aggregates.csv.gz",  # the copy git keeps (pandas reads it compressed)
        RESULTS / "reference" / "summary.json",
        RESULTS / "staged" / "manifest.json",
        RESULTS / "data" / "generation.json",
        RESULTS / "bench" / "kernels.json",
        benchmarks,
        schema_default("prices"),
        tmp_path,
        RESULTS / "scale",
        reducer_bench=RESULTS / "bench" / "reducer.json",
        engines_bench=RESULTS / "bench" / "engines.json",
        explained=RESULTS / "study2023" / "explained.json",
    )

    committed = (RESULTS / "generated" / "macros.tex").read_text(encoding="utf-8")
    assert measured((tmp_path / "macros.tex").read_text(encoding="utf-8")) == measured(committed)


def test_every_committed_configuration_ran_at_least_five_times():
    """The numbers one publishes rest on five runs or more: every configuration of every engine in
    the committed metrics, and every round of the engines bench."""
    import pandas as pd

    from aqbench.metrics import CONFIG_COLUMNS

    runs = pd.read_parquet(RESULTS / "metrics" / "runs.parquet")
    counts = runs.groupby(CONFIG_COLUMNS, dropna=False).size()
    assert len(counts) >= 30 and counts.min() >= 5, counts[counts < 5]
    assert set(runs["engine"]) >= {"lithops", "dask", "duckdb"}
    bench = json.loads((RESULTS / "bench" / "engines.json").read_text())
    assert all(len(bench[k]) >= 5 for k in bench if k.endswith("_walls_s") and bench[k])


@pytest.mark.slow
def test_make_paper_rebuilds_the_paper_through_the_workflow_from_the_committed_results_alone(tmp_path):
    """End to end: `make paper`'s Snakemake run (the figure, report and paper rules only) in a folder
    holding what git keeps of the run, without its generated files: no data, no store, no experiment."""
    import subprocess

    kept = subprocess.run(["git", "ls-files", "results/paper"], capture_output=True, text=True, cwd=REPO,
                          check=True).stdout.split()  # fmt: skip
    generated = [n for n in kept if n.startswith("results/paper/generated/") or n.endswith("paper.pdf")]
    assert generated, "the committed results hold the generated files the rebuild must draw again"
    for name in sorted(set(kept) - set(generated)):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    for name in ("workflow", "paper"):
        (tmp_path / name).symlink_to(REPO / name)
    done = subprocess.run(["make", "--no-print-directory", "-C", str(REPO), "rebuild-paper", f"PAPER_IN={tmp_path}"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    copy = tmp_path / "results" / "paper"
    assert (copy / "paper.pdf").read_bytes()[:4] == b"%PDF"
    assert {n for n in generated if not (tmp_path / n).exists()} == set()  # every figure and table drawn again
    assert measured((copy / "generated" / "macros.tex").read_text()) == measured(
        (RESULTS / "generated" / "macros.tex").read_text()
    )
    assert not (copy / "s3").exists() and not (copy / "lithops").exists()  # no store, no experiment ran
    # drawn again from the same inputs, every figure and table is the same bytes (no dates inside)
    redrawn = [n for n in generated if n.startswith("results/paper/generated/") and not n.endswith("macros.tex")]
    assert redrawn and [n for n in redrawn if (tmp_path / n).read_bytes() != (REPO / n).read_bytes()] == []


def test_the_paper_names_commits_that_are_in_the_history():
    """The commit the measurements were made with, and the one the report was built with, are
    commits of this repository (a shallow clone cannot tell, and skips)."""
    import re
    import subprocess

    root = RESULTS.parent.parent
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], capture_output=True, text=True,
                             cwd=root).stdout.strip()  # fmt: skip
    if shallow != "false":
        pytest.skip("a shallow clone has no history to look the commits up in")
    macros = (RESULTS / "generated" / "macros.tex").read_text(encoding="utf-8")
    for name in ("Commit", "ReportCommit"):
        found = re.search(r"\\newcommand\{\\aq" + name + r"\}\{([^}]*)\}", macros)
        commits = re.findall(r"\b[0-9a-f]{12}\b", found.group(1)) if found else []
        assert commits, name
        for commit in commits:
            known = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=root)
            assert known.returncode == 0, (name, commit)
