"""Shared fixtures: small files in the exact OpenAQ legacy format."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]

LONGEST_FIRST = (
    "test_workflow.py::test_tiny_profile_end_to_end",
    "test_fuzz.py::test_every_kernel_follows_the_spec_on_damaged_bytes",
    "test_aws_contract.py::",
)
"""Tests that take a minute or most of one: `make test` runs the suite on every core
(pytest-xdist, a file to a worker), and their files started first run beside the many short
ones instead of after them."""


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        return next((i for i, name in enumerate(LONGEST_FIRST) if name in item.nodeid), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the rest keep their order


def record(
    utc: str = "2018-01-01T10:00:00.000Z",
    parameter: str = "pm10",
    value: Any = 12.5,
    unit: str = "µg/m³",
    country: str = "PL",
    city: str | None = "Kraków",
    coordinates: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One measurement as OpenAQ's realtime fetches wrote it; ``None`` drops a field."""
    rec: dict[str, Any] = {
        "date": {"utc": utc, "local": utc.replace("Z", "+01:00")},
        "parameter": parameter,
        "value": value,
        "unit": unit,
        "averagingPeriod": {"value": 1, "unit": "hours"},
        "location": "Kraków, Aleja Krasińskiego",
        "city": city,
        "country": country,
        "coordinates": coordinates if coordinates is not None else {"latitude": 50.057678, "longitude": 19.926189},
        "attribution": [{"name": "GIOS", "url": "http://powietrze.gios.gov.pl/"}],
        "sourceName": "GIOS",
        "sourceType": "government",
        "mobile": False,
    }
    rec.update(extra)
    return {k: v for k, v in rec.items() if v is not None}


def line(**kwargs: Any) -> str:
    return json.dumps(record(**kwargs), ensure_ascii=False)


@pytest.fixture
def write_lines(tmp_path: Path) -> Callable[..., Path]:
    """Write lines to ``name`` under tmp_path, gzip-compressed when the name ends in .gz."""

    def write(lines: Iterable[str], name: str = "data.ndjson") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = ("\n".join(lines) + "\n").encode("utf-8")
        if name.endswith(".gz"):
            data = gzip.compress(data)
        path.write_bytes(data)
        return path

    return write


def cli(*argv: object) -> int:
    """``aqbench ARGV...`` in-process (paths and numbers may be given as they are); its exit code."""
    from aqbench.cli import main

    return main([str(a) for a in argv])


def spec_aggregate(lines: Iterable[str | bytes]) -> tuple[dict[tuple, tuple[int, float, float]], dict[str, int]]:
    """Aggregate with the plain-Python rules of aqbench.openaq: {key: (count, sum, max)}, reasons."""
    from aqbench.openaq import Measurement, parse_line

    groups: dict[tuple, tuple[int, float, float]] = {}
    reasons: dict[str, int] = {}
    for text in lines:
        parsed = parse_line(text)
        if parsed is None:
            continue
        if isinstance(parsed, Measurement):
            count, total, peak = groups.get(parsed.key, (0, 0.0, float("-inf")))
            groups[parsed.key] = (count + 1, total + parsed.value, max(peak, parsed.value))
        else:
            reasons[parsed] = reasons.get(parsed, 0) + 1
    return groups, reasons


def table_groups(table) -> dict[tuple, tuple[int, float, float]]:
    """An aggregate table as {key: (count, sum, max)}."""
    from aqbench.openaq import KEY_COLUMNS

    cols = table.to_pydict()
    keys = zip(*(cols[k] for k in KEY_COLUMNS), strict=True)
    values = zip(cols["count"], cols["sum"], cols["max"], strict=True)
    groups = dict(zip(keys, values, strict=True))
    assert len(groups) == table.num_rows, "two rows of one key (-0.0 and 0.0 are one key)"
    return groups


@pytest.fixture(autouse=True)
def _no_lithops_session_leaks(monkeypatch):
    """Tests call the CLI in-process; Lithops exports its session into os.environ, and a later
    subprocess (the workflow test) would inherit it. Each test starts without one."""
    for name in ("__LITHOPS_SESSION_ID", "__LITHOPS_TOTAL_EXECUTORS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One real SeaweedFS server on loopback for the whole test session."""
    from aqbench.storage.server import LocalS3Server

    server = LocalS3Server(tmp_path_factory.mktemp("s3"))
    server.up()
    yield server
    server.down()


@pytest.fixture(scope="session")
def staged(s3_server, tmp_path_factory):
    """Six small objects staged in their own bucket (27 lines each), with their reference partials."""
    from aqbench.storage import open_store
    from aqbench.storage.stage import stage, write_reference

    root = tmp_path_factory.mktemp("engines")
    data = root / "data"
    data.mkdir()
    for i in range(6):
        lines = [
            line(value=i + h / 7, utc=f"2018-01-0{1 + i % 3}T{h:02d}:00:00.000Z", city=["Kraków", None][h % 2])
            for h in range(24)
        ]
        lines += ["{broken", line(value=-999), line(unit="ppm", parameter="co", value=0.3 + i)]
        (data / f"df{i:05d}.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = open_store("s3-local", "engines-test", {"state_dir": s3_server.state_dir})
    manifest, partials = stage([data], store, "openaq/", progress=False)
    manifest.write(root / "manifest.json")
    write_reference(partials, root / "reference.parquet")
    store_args = ["--storage", "s3-local", "--bucket", "engines-test", "--state", str(s3_server.state_dir)]
    return root, [*store_args, "--lithops-tmp", str(root / "lithops-tmp")]


STAGED_RECORDS = 6 * 27

ARCHIVE_HEADER = "location_id,sensors_id,location,datetime,lat,lon,parameter,units,value\n"
ARCHIVE = "archive-stage-fixture"
DAYS = [date(2024, 1, 30) + timedelta(days=i) for i in range(4)]  # crosses a month


def _rows(loc: int, day: date) -> list[str]:
    rows = []
    for hour in range(24):
        for sensor, (parameter, unit) in enumerate((("pm10", "µg/m³"), ("no2", "µg/m³"), ("co", "ppm"))):
            value = f"{(loc * 7 + hour * 3 + sensor) % 90 + 0.25 * sensor}"
            if (loc + hour) % 29 == 0:
                value = "-999"  # a sentinel: rejected as value_negative
            if (loc + hour + sensor) % 17 == 0:
                value = "n/a"  # rejected as value_not_number
            rows.append(f'{loc},{sensor},"Station {loc}, Main St",{day}T{hour:02d}:00:00+01:00,50.0{loc},19.9,'
                        f"{parameter},{unit},{value}")  # fmt: skip
    return rows


@pytest.fixture(scope="session")
def archive_bucket(s3_server):
    """Five locations of PL (two providers) and one of DE, four days each, in the archive's layout."""
    from aqbench.storage.s3 import local_client

    client = local_client(s3_server.endpoint(), *s3_server.credentials())
    if ARCHIVE not in {b["Name"] for b in client.list_buckets()["Buckets"]}:
        client.create_bucket(Bucket=ARCHIVE)
    locations = [("gios", "pl", loc) for loc in (11, 12, 13, 14)] + [("airnow", "pl", 15), ("eea", "de", 99)]
    for provider, country, loc in locations:
        for day in DAYS:
            key = (f"records/csv.gz/provider={provider}/country={country}/locationid={loc}/year={day:%Y}/"
                   f"month={day:%m}/location-{loc}-{day:%Y%m%d}.csv.gz")  # fmt: skip
            body = gzip.compress((ARCHIVE_HEADER + "".join(r + "\n" for r in _rows(loc, day))).encode())
            client.put_object(Bucket=ARCHIVE, Key=key, Body=body)
    return client


def engine_spec(root: Path, store_args: list[str], engine: str, experiment: str, grid: dict, *extra: str) -> Path:
    """The spec of one experiment of ``engine`` on the staged objects (one repetition), written as the
    workflow writes it; ``store_args`` and ``extra``: the few settings the engine tests change, as
    flags (``--warm``, ``--faults JSON``, ``--ledger FILE`` ...)."""
    import argparse
    from dataclasses import replace

    from aqbench import settings, spec

    flags = argparse.ArgumentParser()
    for name in ("--storage", "--bucket", "--state", "--lithops-tmp", "--ledger", "--scheduler-address"):
        flags.add_argument(name)
    flags.add_argument("--budget-usd", type=float, default=5.0)
    flags.add_argument("--retries", type=int)
    flags.add_argument("--faults", default="{}")
    flags.add_argument("--emulate", action=argparse.BooleanOptionalAction, default=True)
    flags.add_argument("--warm", action=argparse.BooleanOptionalAction, default=True)
    flags.add_argument("--emulate-lambda", action="store_true")
    args = flags.parse_args([str(arg) for arg in (*store_args, *extra)])
    section = {"lithops": settings.Lithops(emulate_lambda=args.emulate, warm_environments=args.warm),
               "dask": settings.Dask(scheduler_address=args.scheduler_address or ""),
               "duckdb": settings.DuckDB()}[engine]  # fmt: skip
    section = replace(section, repetitions=1)
    if args.retries is not None:
        section = replace(section, retries=args.retries)
    one = spec.ExperimentSpec(
        engine=engine,
        experiment=spec.Experiment(experiment, grid, 1, emulate_lambda=args.emulate_lambda),
        store=settings.Store(kind=args.storage, bucket=args.bucket),
        places=spec.Places(
            args.state or str(root / "s3"), args.lithops_tmp or str(root / "lithops-tmp"), str(root / "lithops-home")
        ),
        faults=json.loads(args.faults),
        budget=spec.Budget(args.ledger, args.budget_usd) if args.ledger else None,
        network=settings.Network() if args.emulate_lambda else None,
        **{engine: section},
    )
    path = root / f"{engine}-{experiment}.spec.json"
    path.write_text(one.to_json())
    return path


def run_engine(staged, engine: str, experiment: str, grid: dict, *extra: str) -> tuple[int, Path]:
    """``aqbench run-<engine>`` on the staged objects, one repetition; (exit code, output folder)."""
    from aqbench.cli import main

    root, store_args = staged
    out = root / f"{engine}-{experiment}"
    argv = [f"run-{engine}", "--spec", str(engine_spec(root, store_args, engine, experiment, grid, *extra))]
    argv += ["--manifest", str(root / "manifest.json"), "--reference", str(root / "reference.parquet")]
    argv += ["--out", str(out)]
    return main(argv), out


def runs_of(out: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(out / "runs.parquet").to_pylist()


def calls_of(out: Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(out / "calls.parquet").to_pylist()
