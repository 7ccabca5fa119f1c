"""Hypothesis strategies shared by the kernel and reference tests: records, then damaged lines."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from conftest import record

TIMES = [
    "2018-01-01T00:00:00.000Z",
    "2018-01-01T23:59:59Z",
    "2018-01-02T05:00:00+00:00",
    "2018-01-02T05:00:00+01:00",
    "2018-02-30T00:00:00Z",
]


def records(values: st.SearchStrategy, times: list[str] = TIMES, countries: tuple[str, ...] = ("PL", "DE")):
    """Records in the real format, with values from ``values`` and some invalid fields."""
    return st.builds(
        record,
        utc=st.sampled_from(times),
        parameter=st.sampled_from(["pm10", "pm25", "co", ""]),
        value=values,
        unit=st.sampled_from(["µg/m³", "ppm"]),
        country=st.sampled_from(countries),
        city=st.sampled_from(["Kraków", "Łódź", None]),
        coordinates=st.sampled_from([{}, {"latitude": 50.061, "longitude": 19.9372}, {"latitude": "x"}]),
    )


DAMAGES = ("truncate", "blank", "garbage", "crlf", "last_brace", "repeated_key")


@st.composite
def lines(draw, records: st.SearchStrategy, damages: tuple[str, ...] = DAMAGES, intact_weight: int = 6):
    """One line: a record as JSON, intact or damaged the ways real fetches were damaged."""
    text = json.dumps(draw(records), ensure_ascii=draw(st.booleans()))
    damage = draw(st.sampled_from(["none"] * intact_weight + list(damages)))
    if damage == "truncate":
        text = text[: draw(st.integers(0, len(text) - 1))]
    elif damage == "last_brace":  # still ends with "}" when the last field is an object: passes the screen
        text = text[:-1]
    elif damage == "repeated_key":  # Arrow refuses it, the specification keeps the first
        text = '{"country": "DE", ' + text[1:]
    elif damage == "blank":
        text = " \t"
    elif damage == "garbage":
        text = draw(st.text(max_size=30)).replace("\n", " ").replace("\r", " ")
    elif damage == "crlf":
        text += "\r"
    return text
