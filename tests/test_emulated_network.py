"""Each emulated environment's own link: its rate enforced by the kernel, its bytes its own.

What shaping guarantees whatever the machine's load is asserted here: no download is faster
than its link (the kernel's token bucket holds back headers and payload alike), the link's
counters saw the object's bytes, and unshaped loopback traffic passes by them. How close the payload rate
comes to the configured rate depends on the load, so it is measured, not asserted:
``aqbench bench network`` prints it beside the configured rate.
"""

from __future__ import annotations

import os
import time

import pytest

from aqbench.emulated import network as lambda_network

pytestmark = pytest.mark.skipif(not lambda_network.available()[0], reason="tc is refused here (no CAP_NET_ADMIN)")

OBJECT_MB = 25
TOKEN_BUCKET_SLACK = 1.05
"""The most a shaped download may exceed its rate by: HTB's bucket holds a few kB (its burst)."""


@pytest.mark.parametrize(("mbit", "mb_s"), [(624, 78.0), (200, 25.0)])
def test_a_shaped_link_never_exceeds_its_rate_and_counts_the_bytes(s3_server, mbit, mb_s):
    from aqbench.storage import open_store

    store = open_store("s3-local", "shaped-test", {"state_dir": s3_server.state_dir})
    store.ensure_bucket()
    body = os.urandom(OBJECT_MB * 1_000_000)
    store.client.put_object(Bucket=store.bucket, Key="big", Body=body)
    shaper = lambda_network.Shaper(os.getpid() + 17)
    try:
        link = shaper.add(1, mbit)
        with lambda_network.bound_connections(link.address):
            shaped = open_store("s3-local", "shaped-test", {"state_dir": s3_server.state_dir})  # new connections
            before = lambda_network.Shaper.counters()
            started = time.perf_counter()
            assert shaped.get("big") == body
            shaped_s = time.perf_counter() - started
            after = lambda_network.Shaper.counters()
        assert store.get("big") == body  # other traffic: not through the link
        untouched = lambda_network.Shaper.counters()
        rate = len(body) / 1e6 / shaped_s
        assert rate <= TOKEN_BUCKET_SLACK * mb_s, f"{rate:.1f} MB/s through a {mbit} Mbit/s link"
        received = after[link.download] - before.get(link.download, 0)
        assert len(body) <= received <= 1.1 * len(body)
        assert untouched[link.download] - after[link.download] < 10_000  # the unshaped read passed by it
    finally:
        shaper.close()
    assert not [c for c in lambda_network.Shaper.counters() if c in (link.download, link.upload)]


def test_the_emulation_bench_prints_each_figure_beside_what_it_was_configured_to(capsys, tmp_path):
    """``aqbench bench emulation``: CPU shares beside M/1769 and link rates beside their Mbit/s
    and unshaped loopback, all from one run (its numbers are not bounded here: they are the load's)."""
    import json

    from aqbench.emulated import cgroups

    from conftest import cli

    if not cgroups.available()[0]:
        pytest.skip("no writable cgroup v1 hierarchy on this host")
    out = tmp_path / "emulation.json"
    assert cli("bench", "emulation", "--repeats", 1, "--size-mb", 4, "--spin-s", 0.3, "--json", out) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["cpu_884_quota"] == pytest.approx(884 / 1769) and result["cpu_884_share"] > 0
    assert result["link_625_configured_mb_s"] == 625 / 8 and result["link_200_mb_s"] > 0
    assert printed.count("/ quota") == 3 and printed.count("/ configured") == 2 and "unshaped loopback" in printed
