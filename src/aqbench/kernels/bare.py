"""The bare parse and group-by: the limit a kernel is measured against, and the object it reads."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from aqbench.kernels.arrow import read_fields
from aqbench.openaq import Measurement, parse_line


def bare_parse(body: bytes, threads: bool = True) -> int:
    """Arrow's JSON reader on the fields the job needs plus the group-by: no rules, no account.

    The practical limit the benchmarks and the engines' probe quote (our parser's, not the
    machine's: idiomatic DuckDB parses faster, see ``aqbench bench kernels``); its input must
    be :func:`cleaned` first. Returns the number of groups.
    """
    table = read_fields(body, threads)
    coords = table.column("coordinates")
    keys = pa.table(
        {
            "country": table.column("country"),
            "city": table.column("city"),
            "latitude": pc.struct_field(coords, "latitude"),
            "longitude": pc.struct_field(coords, "longitude"),
            "day": pc.utf8_slice_codeunits(pc.struct_field(table.column("date"), "utc"), 0, 10),
            "parameter": table.column("parameter"),
            "unit": table.column("unit"),
            "value": table.column("value"),
        }
    )
    grouped = keys.group_by([n for n in keys.column_names if n != "value"], use_threads=threads).aggregate(
        [("value", "count"), ("value", "sum"), ("value", "max")]
    )
    return grouped.num_rows


def cleaned(body: bytes | bytearray) -> bytes:
    """The object without the lines a bare parse cannot survive (removed before any timing)."""
    return b"".join(ln + b"\n" for ln in bytes(body).splitlines() if isinstance(parse_line(ln), Measurement))
