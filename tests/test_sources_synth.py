"""The synthetic generator: deterministic, in the exact format, realistic in the ways the study needs."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict

import pytest

from aqbench.errors import ConfigError
from aqbench.kernels.reference import aggregate_files
from aqbench.openaq import Measurement, parse_line
from aqbench.sources.synth.catalogue import CITIES, build_series
from aqbench.sources.synth.generate import META_NAME, generate, parse_size, plan_dataset

from conftest import spec_aggregate


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    plan = plan_dataset("3MB", seed=5, object_size="200KB", days=4, bad_fraction=0.01, sentinel_fraction=0.01)
    out = tmp_path_factory.mktemp("synth") / "data"
    meta = generate(plan, out, progress=False)
    return plan, out, meta


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.ndjson"))}


def test_same_seed_and_size_give_identical_bytes_whatever_the_jobs(dataset, tmp_path):
    plan, out, _ = dataset
    again = tmp_path / "again"
    generate(plan, again, jobs=2, progress=False)
    assert _digests(again) == _digests(out)
    other = tmp_path / "other"
    generate(plan_dataset("3MB", seed=6, object_size="200KB", days=4), other, progress=False)
    assert _digests(other) != _digests(out)


def test_size_and_object_size_are_about_right(dataset):
    plan, out, meta = dataset
    sizes = [p.stat().st_size for p in out.glob("*.ndjson")]
    assert len(sizes) == plan.objects >= 10
    assert 0.8 * 3e6 < sum(sizes) < 1.2 * 3e6
    assert all(0.5 * 200e3 < s < 1.3 * 200e3 for s in sizes)
    assert json.loads((out / META_NAME).read_text())["bytes"] == sum(sizes) == meta["bytes"]


def test_every_line_is_valid_except_the_deliberate_damage(dataset):
    _plan, out, meta = dataset
    lines = [ln for p in sorted(out.glob("*.ndjson")) for ln in p.read_text(encoding="utf-8").splitlines()]
    groups, reasons = spec_aggregate(lines)
    assert len(lines) == meta["lines"]
    assert set(reasons) <= {"invalid_json", "missing_value", "value_negative"}
    assert reasons.get("invalid_json", 0) + reasons.get("missing_value", 0) == meta["malformed_lines"] > 0
    assert reasons["value_negative"] > 0
    for text in lines[:2000]:
        rec = json.loads(text) if parse_line(text) is not None and not isinstance(parse_line(text), str) else None
        if rec:
            assert set(rec) >= {
                "date",
                "parameter",
                "value",
                "unit",
                "averagingPeriod",
                "location",
                "country",
                "attribution",
                "sourceName",
                "sourceType",
                "mobile",
            }
            assert rec["date"]["utc"].endswith(".000Z") and rec["date"]["local"][-6] in "+-"
    # and the reference agrees with the plain-Python rules on the whole dataset
    ref = aggregate_files(sorted(out.glob("*.ndjson")))
    assert ref.counts.rejected_by_reason == reasons and ref.aggregates.num_rows == len(groups)


def test_station_days_are_spread_over_several_objects(dataset):
    _, out, _ = dataset
    objects_of = defaultdict(set)
    for p in sorted(out.glob("*.ndjson")):
        for text in p.read_text(encoding="utf-8").splitlines():
            m = parse_line(text)
            if isinstance(m, Measurement):
                objects_of[m.key].add(p.name)
    spread = sum(1 for objs in objects_of.values() if len(objs) > 1) / len(objects_of)
    assert spread > 0.5


def test_catalogue_covers_what_the_study_needs():
    series = build_series()
    stations = {s.station: s for s in series}
    assert len({s.country for s in series}) >= 30
    assert sum(1 for s in stations.values() if s.country == "PL") >= 40
    assert any(s.city is None for s in series) and any(s.latitude is None for s in series)
    assert any(not s.location.isascii() for s in series)
    both = defaultdict(set)
    for s in series:
        both[(s.station, s.parameter)].add(s.unit)
    assert any(units == {"ppm", "µg/m³"} for units in both.values())  # the unit trap is in the data
    assert {c[1] for c in CITIES if c[0] == "PL"} >= {
        "Warszawa",
        "Kraków",
        "Wrocław",
        "Gdańsk",
        "Łódź",
        "Poznań",
        "Katowice",
        "Lublin",
        "Szczecin",
    }


def test_winter_smog_makes_southern_poland_dirtier(tmp_path):
    plan = plan_dataset("8MB", seed=3, object_size="1MB", days=30)
    generate(plan, tmp_path / "d", progress=False)
    groups, _ = spec_aggregate(
        ln for p in sorted((tmp_path / "d").glob("*.ndjson")) for ln in p.read_text(encoding="utf-8").splitlines()
    )
    south, north = [], []
    for (country, _city, lat, _lon, _day, parameter, _unit), (count, total, _) in groups.items():
        if country == "PL" and parameter == "pm10" and lat is not None:
            (south if lat < 51.3 else north).append(total / count)
    assert sum(south) / len(south) > 1.3 * sum(north) / len(north)
    days = defaultdict(list)
    for (country, _c, lat, _l, day, parameter, _u), (count, total, _) in groups.items():
        if country == "PL" and parameter == "pm10" and lat is not None and lat < 51.3:
            days[day].append(total / count)
    means = sorted(sum(v) / len(v) for v in days.values())
    assert means[-1] > 1.7 * means[0]  # episodes: some days far worse than others


@pytest.mark.parametrize(("text", "value"), [("25MB", 25_000_000), ("1GiB", 2**30), ("512kb", 512_000), (10, 10)])
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["lots", "-1MB", "0", "5 parsecs"])
def test_parse_size_refuses_nonsense(text):
    with pytest.raises(ConfigError, match="size"):
        parse_size(text)


def test_refuses_to_overwrite(dataset):
    plan, out, _ = dataset
    with pytest.raises(ConfigError, match="not empty"):
        generate(plan, out, progress=False)
