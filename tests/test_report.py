"""Macros, tables and every figure from tiny metrics in the real shape: milliseconds, no engine run."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from aqbench.defaults import schema_default
from aqbench.report import figures, tables
from aqbench.report.figure_names import FIGURES, SCALE_FIGURES
from report_fixtures import write_bench, write_metrics, write_scale

from conftest import REPO, line


@pytest.fixture(scope="module")
def report_inputs(tmp_path_factory):
    """Metrics, bench, reference, manifest and benchmark files as the workflow hands them to the report."""
    from aqbench.cli import main

    root = tmp_path_factory.mktemp("report")
    metrics = write_metrics(root)
    bench = write_bench(root / "kernels.json")
    data = root / "data.ndjson"
    rows = [line(value=v, utc=f"2018-01-0{d}T10:00:00.000Z") for d in range(1, 4) for v in (10, 20)]
    data.write_text("\n".join([*rows, line(unit="ppm", value=0.1)]) + "\n", encoding="utf-8")
    assert main(["aggregate", str(data), "--out", str(root / "ref.csv"), "--summary", str(root / "ref.json")]) == 0
    (root / "manifest.json").write_text(json.dumps({"bytes": 4_000_000, "objects_count": 4}))
    tsv = root / "generate.tsv"
    tsv.write_text("s\th:m:s\tmax_rss\n12.5\t0:00:12\t100\n")
    scale = write_scale(root, metrics)
    return {"root": root, "metrics": metrics, "bench": bench, "benchmarks": [tsv, tsv], "scale": scale}


def _macros(report_inputs) -> dict[str, str]:
    out = report_inputs["root"] / "generated"
    tables.build(
        report_inputs["metrics"],
        report_inputs["root"] / "ref.csv",
        report_inputs["root"] / "ref.json",
        report_inputs["root"] / "manifest.json",
        None,
        report_inputs["bench"],
        report_inputs["benchmarks"],
        schema_default("prices"),
        out,
        report_inputs["scale"],
    )
    text = (out / "macros.tex").read_text()
    return dict(re.findall(r"\\newcommand\{\\aq(\w+)\}\{(.*)\}", text))


def test_every_macro_the_paper_uses_is_made_by_the_report(report_inputs):
    """Built without the study's own software (as where no Python 3.8 is found): every macro outside the
    files input only when it ran (``*_explained.tex``); theirs from the committed record."""
    from aqbench.report import study_explained

    made = set(_macros(report_inputs))
    record = study_explained.read(REPO / "results" / "paper" / "study2023" / "explained.json")
    explained = set(study_explained.macros(record))
    used, used_explained = set(), set()
    for tex in [*REPO.glob("paper/*.tex"), *REPO.glob("paper/sections/*.tex")]:
        names = set(re.findall(r"\\aq\{(\w+)\}", tex.read_text(encoding="utf-8")))
        (used_explained if tex.stem.endswith("_explained") else used).update(names)
    assert used and not (used - made), f"used in paper/ but never generated: {sorted(used - made)}"
    assert used_explained and not (used_explained - made - explained), sorted(used_explained - made - explained)


def test_every_macro_name_is_letters_only(report_inputs):
    """TeX control sequences are letters: \\aqCallAt1024 would be \\aqCallAt followed by 1024."""
    assert [n for n in _macros(report_inputs) if not re.fullmatch(r"[A-Za-z]+", n)] == []


def test_macros_carry_the_measured_numbers(report_inputs):
    made = _macros(report_inputs)
    assert made["WorkflowMinutes"] == "0.4" and made["TimedJobs"] == "2"  # 2 x 12.5 s
    assert made["MergeFanIn"] == "2{,}000" and made["MergeReducers"] == "8" and made["BenchObjectMB"] == "25.1"
    assert made["LimitMBs"] == "405" and made["ArrowVsLimit"] == "0.85"  # the runs' own probes
    assert made["Emulated"] == "on" and made["TimeoutOutcome"] == "timeout"
    assert made["RecordsRead"] == "7" and made["SumTolerance"] == "$10^{-9}$"
    # two repetitions x two memory sizes x two calls: the warm-up jobs start cold, the measured ones do not
    assert (made["WarmupCalls"], made["WarmupColdStarts"], made["MeasuredColdStarts"]) == ("8", "8", "0")
    assert made["InitSeconds"] == "1.10" and made["ColdLatency"] == "1.20"
    # the latencies' n are the calls Fig. cold_warm draws: the warm-up's and the measured map calls, not the reduces
    assert (made["ColdLatencyN"], made["WarmLatencyN"]) == ("8", "8")


def test_summary_table_has_a_row_per_configuration(report_inputs):
    import pandas as pd

    summary = pd.read_parquet(report_inputs["metrics"] / "summary.parquet")
    text = tables.summary_table(summary)
    rows = [ln for ln in text.splitlines() if ln.endswith("\\\\")][1:]  # after the header
    assert len(rows) == len(summary) == 15
    assert any(r.startswith("lithops & timeout") and "& timeout &" in r for r in rows)


def test_a_missing_benchmark_file_fails_the_report(report_inputs, tmp_path):
    with pytest.raises(FileNotFoundError):
        report_inputs_missing = dict(report_inputs, benchmarks=[tmp_path / "nope.tsv"])
        _macros(report_inputs_missing)


@pytest.mark.parametrize("name", FIGURES + SCALE_FIGURES)
def test_every_figure_draws_from_tiny_metrics(report_inputs, name, tmp_path):
    root = report_inputs["root"]
    inputs = figures.Inputs(report_inputs["metrics"], root / "ref.csv", report_inputs["bench"], report_inputs["scale"])
    figures.draw(name, inputs, tmp_path / f"{name}.pdf", tmp_path / f"{name}.png")
    assert (tmp_path / f"{name}.pdf").read_bytes()[:4] == b"%PDF"
    assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_the_figure_list_is_the_plotting_functions():
    from aqbench.report.figures import comparison, maps, measured, scale

    plotting = {
        n
        for module in (measured, maps, comparison, scale)
        for n, f in vars(module).items()
        if inspect.isfunction(f)
        and f.__module__ == module.__name__
        and list(inspect.signature(f).parameters) == ["inp"]
    }
    assert set(FIGURES + SCALE_FIGURES) == set(figures.PLOTS) == plotting


def test_the_workflow_has_one_rule_per_figure():
    import subprocess
    import sys
    from pathlib import Path

    snakemake = Path(sys.executable).with_name("snakemake")
    listed = subprocess.run(
        [str(snakemake), "--list-rules", "--configfile", "workflow/config/tiny.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {r.removeprefix("figure_") for r in listed if r.startswith("figure_")} == set(FIGURES + SCALE_FIGURES)
    captions = REPO / "workflow" / "report" / "figures"  # the Snakemake report needs each figure's caption
    assert not [n for n in FIGURES + SCALE_FIGURES if not (captions / f"{n}.rst").exists()]


@pytest.mark.parametrize(
    ("vs_limit", "drift", "refused"),
    [(0.5, 0.1, None), (1.1, 0.1, "above the machine's limit"), (0.5, 0.3, "moved 30%")],
)
def test_a_ratio_above_one_or_a_probe_that_moved_is_refused(vs_limit, drift, refused):
    import pandas as pd

    from aqbench.errors import UnreliableRatio

    row = pd.Series({"engine": "dask", "experiment": "baseline", "kernel": "arrow", "memory_mb": 2048,
                     "throughput_mb_s": 200.0 * vs_limit, "vs_limit": vs_limit, "probe_mb_s": 200.0,
                     "probe_drift": drift})  # fmt: skip
    if refused:
        with pytest.raises(UnreliableRatio, match=refused):
            tables._quoted_ratio(row)
    else:
        assert tables._quoted_ratio(row) == "0.50"
    if vs_limit <= 1:  # a profile may relax the drift rule (report.max_probe_drift), never the limit
        assert tables._quoted_ratio(row, max_drift=10) == "0.50"


def test_the_study_code_is_timed_against_our_kernels_per_record_of_the_same_objects():
    """Activation i of study_code and study_objects reads the same records: every time is scaled by
    the study-layout copy's size (a 20 MB copy timed 2 s is 2.5 s per 25 MB document, and so is
    the seed kernel's 0.5 s on its source object 0.625 s), and the table divides the medians."""
    import pandas as pd

    from aqbench.report import study_code

    base = {"engine": "lithops", "phase": "map", "status": "success", "memory_mb": 1024}
    rows = [
        base | {"experiment": "study_code", "kernel": "study", "call": 0, "bytes_read": 20e6, "duration_s": 2.0},
        base | {"experiment": "study_objects", "kernel": "seed", "call": 0, "bytes_read": 22e6, "duration_s": 0.5},
        base | {"experiment": "study_objects", "kernel": "arrow", "call": 0, "bytes_read": 22e6, "duration_s": 0.25},
        base | {"experiment": "memory", "kernel": "seed", "call": 0, "bytes_read": 22e6, "duration_s": 9.0},
    ]
    per = study_code.same_records(pd.DataFrame(rows)).set_index("kernel")["median_s"]
    assert per.to_dict() == pytest.approx({"study": 2.5, "seed": 0.625, "arrow": 0.3125})
    table = study_code.table(pd.DataFrame(rows))
    assert "1024 & 2.50 (2.50--2.50, 1) & 0.62" in table and "& 4.0; 8.0" in table
    assert study_code.macros(pd.DataFrame(rows), None)["StudyCodeVsSeedEngine"] == "4.0 times as slow as"


def test_the_objects_finding_names_each_setting_once_and_claims_nothing_beyond_the_most_tried():
    """Best and most objects a call the same setting: one clause, and no "still pays beyond" it."""
    from aqbench.report.findings import _objects_sentence

    wall = {1: [17.3, 17.9, 20.3], 8: [15.0, 15.6, 16.6]}
    text = _objects_sentence(1, 8, 8, wall, "shorter than")
    assert text.count("with 8") == 1 and "not measured" in text and "beyond" not in text
    wall[4] = [14.0, 14.5, 15.0]
    assert "the most this profile tried" in _objects_sentence(1, 4, 8, wall, "shorter than")


def test_the_engines_ranking_tells_apart_only_engines_whose_ranges_do_not_overlap():
    from aqbench.report.engines_compare import same_terms_macros

    mb = 300.0
    walls = {"local": [1.7, 1.75, 1.8, 1.9, 2.1], "dask_kernel": [2.2, 2.4, 2.5, 2.7, 2.9],
             "lithops_warm": [2.5, 2.8, 3.1, 3.4, 3.7], "lithops": [4.1, 4.3, 4.5, 4.6, 4.7]}  # fmt: skip
    bench = {"mb": mb, "limit_mb_s": 330.0, "read_parse_mb_s": 200.0, "cores": 2, "objects": 12}
    bench |= {f"{n}_walls_s": w for n, w in walls.items()} | {f"{n}_verified": 5 for n in walls}
    order = same_terms_macros(bench)["SameTermsOrder"]
    first, second, third = order.split("; then ")
    assert first.startswith("one machine") and "no difference measured" not in first
    assert "Dask (shared kernel)" in second and "Lithops on warm" in second and "no difference measured" in second
    assert third.startswith("Lithops as users run it") and "slower than one machine" in third
    assert same_terms_macros(bench)["SameTermsVerified"].startswith("Every exact engine")
    # fewer rounds than the bench ranks by (a quick profile's 2): listed by median, not ranked
    few = bench | {f"{n}_walls_s": w[:2] for n, w in walls.items()} | {f"{n}_verified": 2 for n in walls}
    macros = same_terms_macros(few)
    assert "then" not in macros["SameTermsOrder"] and "slower than" not in macros["SameTermsOrder"]
    assert "2 rounds, fewer than the 5" in macros["SameTermsOrder"] and "too few" in macros["SameTermsFastest"]
