"""The study's code in the study's software (runtime/study2023, aqbench.study2023): the slides'
lines verbatim but for the listed deviations, the 2023 environment built from its lock, and the
verbatim code run in it on a small object, its averages against the reference."""

from __future__ import annotations

import ast
import builtins
import importlib.util
import json
import subprocess

import pytest

from aqbench.errors import ConfigError
from aqbench.study2023 import environment

from conftest import REPO, line

FOLDER = REPO / "runtime" / "study2023"
MARKER = "# --- the slides' code ---\n"


def _study_code():
    """runtime/study2023/study_code.py as a module (it imports on today's pandas too; only running it needs 1.5)."""
    spec = importlib.util.spec_from_file_location("study_code_2023", FOLDER / "study_code.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_code_run_is_the_slides_with_only_the_listed_deviations():
    slides = [ln for ln in (FOLDER / "slides_cells.txt").read_text().splitlines() if not ln.startswith("#")]
    ours = (FOLDER / "study_code.py").read_text().split(MARKER, 1)[1]
    deviated = list(slides)
    for slide_line, our_line, why in _study_code().DEVIATIONS:
        at = [i for i, ln in enumerate(slides) if ln == slide_line]
        assert len(at) == 1 and why, slide_line  # each listed line is the slides' own, once
        deviated[at[0]] = our_line
    assert "\n".join(deviated).strip() == ours.strip()
    assert "axis=1" in ours and ".drop_duplicates()" in ours and "apply(lambda row" in ours  # kept as given


def test_what_the_slides_call_but_do_not_show_is_all_listed_as_reconstructed():
    module = ast.parse((FOLDER / "study_code.py").read_text().split(MARKER, 1)[1])
    defined = {node.name for node in module.body if isinstance(node, ast.FunctionDef)}
    used = {n.id for n in ast.walk(module) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    local = {n.id for n in ast.walk(module) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    args = {a.arg for n in ast.walk(module) if isinstance(n, ast.arguments) for a in n.args}
    outside = used - defined - local - args - set(dir(builtins)) - {"pd", "json", "os"}
    assert defined == {"day_average_map", "day_average_reduce", "day_max_map", "day_max_reduce"}
    assert outside == set(_study_code().RECONSTRUCTED)


def test_without_a_python_38_one_line_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setenv("AQBENCH_PYTHON38", str(tmp_path / "no-python3.8"))
    assert environment.find_python38() is None
    with pytest.raises(ConfigError, match=r"needs Python 3\.8: install it \(`pyenv install 3\.8`\)") as err:
        environment.build(None, tmp_path / "venv")
    assert "\n" not in str(err.value) and not (tmp_path / "venv").exists()


def test_the_lock_pins_the_studys_releases_with_hashes():
    lock = (FOLDER / "requirements.lock").read_text()
    for pin in ("lithops==2.7.1", "pandas==1.5.2", "numpy==1.24.1"):
        assert f"\n{pin} \\\n    --hash=sha256:" in lock, pin
    assert "--exclude-newer 2023-01-16" in lock  # resolved as the index stood on the warm-up's day


PYTHON38 = environment.find_python38()


@pytest.fixture(scope="module")
def study_env():
    """The checkout's 2023 environment, built from the lock as ``make reproduce`` builds it (once)."""
    if PYTHON38 is None:
        pytest.skip(environment.HOW_TO_GET)
    return environment.build(PYTHON38)


def _object(offset: float) -> bytes:
    """Records on which the study's semantics and the reference's agree: one unit per parameter, every
    record with a city and coordinates, every value valid."""
    lines = []
    for station, (city, lat) in enumerate((("Kraków", 50.06), ("Gdańsk", 54.35))):
        for hour in range(6):
            for parameter, unit, base in (("pm10", "µg/m³", 20.0), ("co", "ppm", 0.3)):
                value = base + station * 3 + hour * 0.5 + offset
                where = {"latitude": lat, "longitude": 19.9 + station}
                lines.append(line(city=city, parameter=parameter, unit=unit, value=value, coordinates=where,
                                  utc=f"2018-01-01T0{hour}:00:00.000Z"))  # fmt: skip
    return ("\n".join(lines) + "\n").encode()


def _averages(python: str, software: str, tmp_path) -> tuple[dict, dict, dict]:
    """The slides' average job over two study-layout objects: the study's averages, the reference's, an answer."""
    import sys

    import pandas as pd

    from aqbench.kernels.reference import aggregate_files
    from aqbench.kernels.study import to_study_layout

    sources = []
    for day, offset in ((1, 0.0), (2, 7.25)):  # two objects, the same station-days: the reduce merges them
        source = tmp_path / f"df{day}.ndjson"
        source.write_bytes(_object(offset))
        (tmp_path / f"df{day}.json").write_bytes(to_study_layout(source.read_bytes()))
        sources.append(source)
    harness = [
        python or sys.executable,
        str(FOLDER / "activation.py"),
        "--folder",
        str(tmp_path),
        "--software",
        software,
    ]
    for day in (1, 2):
        done = subprocess.run([*harness, "--key", f"df{day}.json", "--out", str(tmp_path / f"map{day}.json")],
                              capture_output=True, text=True, check=True)  # fmt: skip
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    reduce = [*harness, "--reduce", "average", "--results", str(tmp_path / "map1.json"), str(tmp_path / "map2.json"),
              "--out", str(tmp_path / "reduced.json")]  # fmt: skip
    subprocess.run(reduce, capture_output=True, text=True, check=True)
    reduced = pd.DataFrame(json.loads((tmp_path / "reduced.json").read_text()))
    # the study's partials go through to_json/read_json: its day comes back as epoch milliseconds
    days = pd.to_datetime(reduced["date"], unit="ms").dt.strftime("%Y-%m-%d")
    study = {(r.city, day, r.parameter): r.average for r, day in zip(reduced.itertuples(), days, strict=True)}
    reference = aggregate_files(sources).aggregates.to_pandas()
    expected = {(r.city, str(r.day)[:10], r.parameter): r.average for r in reference.itertuples()}
    return study, expected, answer


def _same(study: dict, expected: dict) -> None:
    assert set(study) == set(expected) and len(study) == 4
    for key, value in expected.items():
        assert study[key] == pytest.approx(value, rel=1e-9), key


@pytest.mark.slow
def test_the_slides_code_runs_verbatim_in_the_2023_software_and_averages_as_the_reference(study_env, tmp_path):
    assert study_env["packages"]["pandas"] == "1.5.2" and study_env["python"].startswith("3.8.")
    study, expected, answer = _averages(f"{study_env['venv']}/bin/python", "2023", tmp_path)
    assert answer["pandas"] == "1.5.2" and answer["result_bytes"] > 0 and answer["phases_s"]["preprocess"] > 0
    _same(study, expected)


def test_the_same_code_on_todays_software_differs_only_by_the_lines_todays_pandas_refuses(tmp_path):
    code = (FOLDER / "study_code.py").read_text().split(MARKER, 1)[1].splitlines()
    for old, new, why in _study_code().TODAY:
        assert code.count(old) >= 1 and new != old and why, old
    study, expected, answer = _averages("", "today", tmp_path)
    assert answer["software"] == "today" and answer["python"].startswith("3.1")
    _same(study, expected)


def test_the_summary_sets_each_softwares_median_beside_the_others_as_a_ratio():
    from aqbench.study2023.activations import Plan, summary

    runs = (("2023", 3.0), ("2023", 5.0), ("2023", 4.0), ("today", 2.0))
    rows = [{"phase": "map", "memory_mb": 1024, "preprocess": "row_apply", "software": w, "status": "success",
             "seconds": s, "peak_rss_mb": 300.0} for w, s in runs]  # fmt: skip
    rows += [{"phase": "lithops", "memory_mb": 1024, "status": "success", "t_lithops": t} for t in (0.3, 0.5)]
    rows.append({"memory_mb": 1024, "preprocess": "row_apply", "software": "today", "status": "oom", "error": "killed"})
    text = summary(rows)
    assert "4.00 [3.00-5.00] n=3" in text and "2.00" in text and "failed: 1024 MB map today row_apply: oom" in text
    assert "Lithops 2.7.1 around an activation, 1024 MB: median 0.40 s [0.30-0.50] n=2" in text
    assert text.splitlines()[1].split()[-2] == "2.00"  # 4.00 / 2.00
    points = Plan((1024, 2048), 2, ("a", "b"), software=("2023", "today")).points(["o"])
    assert len(points) == 16 and [p["repetition"] for p in points[:8]] == [0] * 8  # interleaved by repetition
