"""The machine's probe around each run: a rate from the cleaned object, and its drift."""

from __future__ import annotations

import pytest


def test_the_probe_measures_a_rate_and_its_drift():
    from aqbench.engines.probe import Probe, drift

    from conftest import line

    body = ("\n".join(line(value=v, utc=f"2018-01-01T{v % 24:02d}:00:00.000Z") for v in range(2000)) + "\n").encode()
    probe = Probe(body + b"{broken\n")
    assert probe.mb == pytest.approx(len(body) / 1e6)  # the malformed line is not timed
    assert probe.mb_s() > 0
    assert drift(100.0, 80.0) == pytest.approx(0.2) and drift(100.0, 130.0) == pytest.approx(0.3)
