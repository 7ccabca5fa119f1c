"""The aggregate verb as a user runs it: outputs, the summary line, one-line errors, no partial files."""

from __future__ import annotations

import json

import pytest

from aqbench.aggregates import read_csv
from aqbench.cli import main
from aqbench.openaq import OUTPUT_COLUMNS

from conftest import REPO, line


def test_aggregate_writes_csv_and_prints_the_account(tmp_path, write_lines, capsys):
    write_lines([line(value=1.25), line(value=2.5, city="Łódź"), "broken", line(value=-999)], "in/a.ndjson.gz")
    out = tmp_path / "agg.csv"
    summary = tmp_path / "summary.json"
    assert main(["aggregate", str(tmp_path / "in"), "--out", str(out), "--summary", str(summary)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(summary.read_text())
    assert printed == {
        "records_read": 4,
        "records_valid": 2,
        "records_rejected": 2,
        "rejected_by_reason": {"invalid_json": 1, "value_negative": 1},
        "groups": 2,
    }
    text = out.read_text(encoding="utf-8").splitlines()
    assert text[0] == ",".join(OUTPUT_COLUMNS)
    assert text[1] == "PL,Kraków,50.057678,19.926189,2018-01-01,pm10,µg/m³,1,1.25,1.25,1.25"
    assert read_csv(out).num_rows == 2


def test_floats_read_back_to_the_same_double(tmp_path, write_lines):
    values = [0.1, 0.2, 1 / 3, 1e-7, 123456.789]
    write_lines([line(value=v) for v in values], "in.ndjson")
    out = tmp_path / "agg.csv"
    main(["aggregate", str(tmp_path / "in.ndjson"), "--out", str(out)])
    row = read_csv(out).to_pylist()[0]
    total = 0.0
    assert row["max"] == 123456.789
    assert abs(row["sum"] - sum(values, total)) < 1e-9
    assert row["average"] == row["sum"] / 5  # written and read back without losing a bit


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_missing_path(tmp_path, capsys):
    out = tmp_path / "agg.csv"
    assert main(["aggregate", str(tmp_path / "nope"), "--out", str(out)]) != 0
    assert "no such file or folder" in _error(capsys)
    assert not out.exists()


def test_corrupt_gzip(tmp_path, write_lines, capsys):
    good = write_lines([line()] * 200, "good.ndjson.gz")
    bad = tmp_path / "bad.ndjson.gz"
    bad.write_bytes(good.read_bytes()[:-12])
    out = tmp_path / "agg.csv"
    assert main(["aggregate", str(bad), "--out", str(out)]) == 3
    assert "bad.ndjson.gz" in _error(capsys)
    assert not out.exists() and list(tmp_path.glob(".agg.csv*")) == []


def test_folder_without_data(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("hi")
    assert main(["aggregate", str(tmp_path / "empty"), "--out", str(tmp_path / "o.csv")]) == 3
    assert "holds no data files" in _error(capsys)


def test_unwritable_output(tmp_path, write_lines, capsys):
    data = write_lines([line()])
    assert main(["aggregate", str(data), "--out", str(tmp_path / "no" / "dir" / "o.csv")]) == 2
    assert "cannot write" in _error(capsys)


def test_help_lists_defaults(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["aggregate", "--help"])
    assert exc.value.code == 0
    assert "default: reference" in capsys.readouterr().out


def test_stand_alone_defaults_are_the_default_profiles():
    """A verb run by hand takes the settings' defaults, which are the schema's (tests/test_settings.py)."""
    from aqbench.cli import build_parser
    from aqbench.defaults import schema_default

    parser = build_parser()
    generate = parser.parse_args(["generate", "--out", "x"])
    assert generate.seed == schema_default("data.synthetic.seed") == 42
    assert generate.size == schema_default("data.synthetic.size")
    stage = parser.parse_args(["stage", "d", "--manifest", "m", "--reference", "r"])
    assert (stage.bucket, stage.prefix) == (schema_default("storage.bucket"), schema_default("storage.prefix"))


def test_no_verb_reads_the_schema_from_the_checkout():
    """The verbs' defaults are aqbench.settings' fields: an installed aqbench needs no schema file."""
    for module in (REPO / "src" / "aqbench" / "cli").glob("*.py"):
        assert "aqbench.defaults" not in module.read_text(), module.name


def test_a_dataset_smaller_than_one_object_is_refused(tmp_path, capsys):
    assert main(["generate", "--size", "8MB", "--out", str(tmp_path / "d"), "--quiet"]) == 2
    assert "smaller than one object" in _error(capsys)
    assert not (tmp_path / "d").exists()
