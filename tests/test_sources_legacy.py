"""Importing a local copy of the legacy realtime files: lines copied byte for byte, re-cut by size."""

from __future__ import annotations

import gzip

import pytest

from aqbench.cli import main
from aqbench.errors import DataError
from aqbench.kernels.reference import aggregate_files
from aqbench.sources.legacy import import_legacy

from conftest import REPO, line


@pytest.fixture
def realtime(tmp_path):
    """The layout of openaq-fetches: realtime/YYYY-MM-DD/<fetch>.ndjson, and realtime-gzipped."""
    root = tmp_path / "openaq-fetches"
    for day in ("2018-01-01", "2018-01-02"):
        folder = root / "realtime" / day
        folder.mkdir(parents=True)
        for fetch in range(3):
            lines = [line(utc=f"{day}T{fetch:02d}:{m:02d}:00.000Z", value=fetch + m / 10) for m in range(0, 60, 5)]
            (folder / f"{1514764800 + fetch}.ndjson").write_text("\n".join([*lines, '{"broken']) + "\n")
    gz = root / "realtime-gzipped" / "2018-01-03"
    gz.mkdir(parents=True)
    (gz / "1514937600.ndjson.gz").write_bytes(
        gzip.compress(
            ("\n".join(line(utc=f"2018-01-03T10:{m:02d}:00.000Z", city="Łódź") for m in range(30)) + "\n").encode()
        )
    )
    return root


def test_import_keeps_every_line_and_the_same_aggregates(realtime, tmp_path):
    out = tmp_path / "data"
    stats = import_legacy([realtime], out, object_size="2KB")
    assert stats["files"] == 7 and stats["objects"] > 5
    original = aggregate_files(sorted(p for p in realtime.rglob("*") if p.is_file()))
    imported = aggregate_files(sorted(out.glob("*.ndjson")))
    assert imported.counts == original.counts
    assert imported.counts.rejected_by_reason == {"invalid_json": 6}
    assert imported.aggregates.equals(original.aggregates)


def test_import_of_the_shipped_sample_via_cli(tmp_path, capsys):
    assert (
        main(["import-legacy", str(REPO / "data" / "sample"), "--out", str(tmp_path / "d"), "--object-size", "30KB"])
        == 0
    )
    assert '"lines": 483' in capsys.readouterr().out


def test_corrupt_gzip_is_a_clear_error_and_leaves_nothing(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.ndjson.gz").write_bytes(gzip.compress(b"x" * 5000)[:-20])
    with pytest.raises(DataError, match=r"a\.ndjson\.gz"):
        import_legacy([src], tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))
