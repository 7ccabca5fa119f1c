"""The map/reduce kernels against the reference: any split into objects, any R, any merge order."""

from __future__ import annotations

import functools
import itertools
import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aqbench.cli import main
from aqbench.errors import ConfigError
from aqbench.inputs import FetchedObject
from aqbench.kernels import get_kernel, run_in_process
from aqbench.kernels.arrow import map_object
from aqbench.kernels.partial import Partial, merge, split
from aqbench.kernels.reference import aggregate_files
from strategies import lines, records

from conftest import line, table_groups


def _reference(objects: list[bytes]):
    sources = [FetchedObject(f"o{i}.ndjson", lambda b=b: b) for i, b in enumerate(objects)]
    return aggregate_files(sources)


def _check(expected, table, counts):
    assert counts == expected.counts
    want, got = table_groups(expected.aggregates), table_groups(table)
    assert got.keys() == want.keys()
    for key, (count, total, peak) in want.items():
        assert got[key][0] == count and got[key][2] == peak
        assert math.isclose(got[key][1], total, rel_tol=1e-9, abs_tol=1e-300)


_precise = st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda v: round(v, 4))
_values = st.one_of(_precise, st.integers(-1000, 10**6), st.sampled_from([-999, 0, "12", True, None, float("nan")]))
_lines = functools.partial(lines, records(_values))


@st.composite
def _split_objects(draw):
    lines = draw(st.lists(_lines(), min_size=0, max_size=60))
    cuts = sorted(draw(st.lists(st.integers(0, len(lines)), max_size=5)))
    bounds = [0, *cuts, len(lines)]
    objects = ["\n".join(lines[a:b]) + ("\n" if draw(st.booleans()) else "") for a, b in itertools.pairwise(bounds)]
    return [o.encode("utf-8") for o in objects]


@pytest.mark.parametrize("kernel", ["arrow", "ndjson", "seed"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objects=_split_objects(), reducers=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_kernel_equals_reference_for_any_split_and_layout(kernel, objects, reducers, seed):
    k = get_kernel(kernel)
    partitions = [[] for _ in range(reducers)]
    for i, body in enumerate(objects):
        for r, part in enumerate(k.map(body, f"o{i}.ndjson", reducers)):
            partitions[r].append(part)
    rng = random.Random(seed)
    reduced = []
    for parts in partitions:  # any merge order, any tree shape
        rng.shuffle(parts)
        cut = rng.randint(0, len(parts))
        reduced.append(k.reduce([k.reduce(parts[:cut]), k.reduce(parts[cut:])]))
    rng.shuffle(reduced)
    table, counts = k.finalize(k.reduce(reduced))
    _check(_reference(objects), table, counts)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objects=_split_objects(), writable=st.booleans(), piece=st.integers(64, 4096))
def test_arrow_recovers_refused_lines_in_any_piece(objects, writable, piece):
    """Lines that pass the screen but Arrow refuses are found from its error, in whichever piece."""
    body = b"".join(objects)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("aqbench.kernels.arrow.PIECE_BYTES", piece)
        result = map_object(bytearray(body) if writable else body, threads=writable)
    from aqbench.kernels.partial import finalize

    _check(_reference([body]), finalize(result), result.counts)


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.floats(min_value=0, max_value=1e300, allow_nan=False, allow_infinity=False), max_size=30))
def test_arrow_keeps_every_bit_of_arbitrary_doubles(values):
    body = "".join(line(value=v, coordinates={"latitude": v, "longitude": -v}) + "\n" for v in values).encode()
    partial = map_object(body)
    table, counts = get_kernel("arrow").finalize(partial.to_ipc())
    _check(_reference([body]), table, counts)


def test_merge_is_associative_and_commutative():
    bodies = [
        ("\n".join(line(value=v, utc=f"2018-01-0{d}T00:00:00Z") for v in (i, i + 0.5))).encode()
        for i, d in ((1, 1), (2, 1), (3, 2))
    ]
    a, b, c = (map_object(x) for x in bodies)
    one = merge([merge([a, b]), c])
    two = merge([c, merge([b, a])])
    assert table_groups(get_kernel("arrow").finalize(one.to_ipc())[0]) == table_groups(
        get_kernel("arrow").finalize(two.to_ipc())[0]
    )
    assert one.counts == two.counts


def test_split_keeps_counts_once_and_keys_in_one_part():
    p = map_object(
        (
            "\n".join(line(value=i, utc=f"2018-01-{d:02d}T00:00:00Z") for i in range(3) for d in range(1, 20))
            + "\nbad\n"
        ).encode()
    )
    parts = split(p, 4)
    assert sum(x.counts.records_read for x in parts) == p.counts.records_read == 58
    assert sum(x.table.num_rows for x in parts) == p.table.num_rows
    keys = [set(table_groups(x.table.append_column("average", x.table.column("sum")))) for x in parts]
    assert all(not (keys[i] & keys[j]) for i in range(4) for j in range(i + 1, 4))


def test_partials_are_arrow_ipc_not_json():
    data = map_object(line().encode()).to_ipc()
    assert data[:4] == b"\xff\xff\xff\xff" and Partial.from_ipc(data).counts.records_valid == 1


def test_unknown_kernel_is_named():
    with pytest.raises(ConfigError, match="choose one of arrow, ndjson, seed"):
        get_kernel("spark")


def test_in_process_runner_and_cli_on_gzip(write_lines, tmp_path, capsys):
    path = write_lines([line(value=1.0), line(value=3.0, unit="ppm"), "{trunc"], "a.ndjson.gz")
    table, counts = run_in_process(get_kernel("arrow"), [(path.name, path.read_bytes())], reducers=2)
    assert counts.rejected_by_reason == {"invalid_json": 1} and table.num_rows == 2
    for kernel in ("arrow", "ndjson", "seed"):
        assert (
            main(
                [
                    "aggregate",
                    str(path),
                    "--kernel",
                    kernel,
                    "--reducers",
                    "3",
                    "--out",
                    str(tmp_path / f"{kernel}.csv"),
                ]
            )
            == 0
        )
    assert main(["aggregate", str(path), "--out", str(tmp_path / "ref.csv")]) == 0
    ref = (tmp_path / "ref.csv").read_text()
    assert {(tmp_path / f"{k}.csv").read_text() for k in ("arrow", "ndjson", "seed")} == {ref}


def test_the_leniency_screen_sets_aside_literals_not_words():
    """yyjson reads nan/inf/infinity in any case as numbers, and trailing commas: those lines go to the
    specification; words that only start like them (Nantes, Institut) stay with DuckDB's reader."""
    import numpy as np

    from aqbench.kernels.ndjson import lenient_lines

    lines = [
        b'{"a": nan}', b'{"a":-Infinity}', b'{"a":[INF]}', b'{"a": 1,}', b'{"a": [1 ]}',
        b'{"a": "Nantes"}', b'{"a":"Norwegian Institut"}', b'{"a": "in"}', b'{"nan": 1}',
    ]  # fmt: skip
    body = b"\n".join(lines) + b"\n"
    nl = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == ord("\n"))
    aside = [body[a:b] for a, b in lenient_lines(body, nl)]
    assert aside == lines[:5]


@pytest.mark.parametrize("kernel", ["arrow", "ndjson"])
def test_key_fields_of_another_json_type_follow_the_spec(kernel):
    """A bulk reader may turn 5 into "5" or "12" into 12: the lines must still be judged by the rules."""
    from conftest import spec_aggregate, table_groups

    texts = [line(), line(value="12"), line(value=True), line(parameter="pm25").replace('"PL"', "5"),
             line(city="x").replace('"x"', "true"), line().replace('"pm10"', '{"a": 1}'),
             line(parameter="").replace('"PL"', "7")]  # fmt: skip
    body = ("\n".join(texts) + "\n").encode()
    groups, reasons = spec_aggregate(body.split(b"\n"))
    table, counts = run_in_process(get_kernel(kernel), [("o.ndjson", bytearray(body))])
    assert counts.rejected_by_reason == reasons
    assert reasons == {"missing_country": 2, "missing_parameter": 1, "value_not_number": 2}
    assert table_groups(table).keys() == groups.keys() and len(groups) == 2  # a city of true is ""


def test_the_aggregate_verb_offers_every_verified_kernel():
    """The CLI names its kernels without importing them (a quick --help): the list must not drift."""
    from aqbench.cli.common import KERNELS as VERB_KERNELS
    from aqbench.kernels import VERIFIED

    assert set(VERB_KERNELS) == {"reference", *VERIFIED}
