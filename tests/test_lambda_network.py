"""Each emulated environment's own link: its rate enforced by the kernel, its bytes its own."""

from __future__ import annotations

import os
import time

import pytest

from aqbench.engines import lambda_network

pytestmark = pytest.mark.skipif(not lambda_network.available()[0], reason="tc is refused here (no CAP_NET_ADMIN)")

OBJECT_MB = 25


@pytest.mark.parametrize(("mbit", "mb_s"), [(624, 78.0), (200, 25.0)])
def test_a_shaped_link_downloads_at_its_rate(s3_server, monkeypatch, mbit, mb_s):
    """A 25 MB object read through an environment's link: within 15 % of the configured rate,
    and the link's counters saw the object's bytes (and unshaped loopback stayed fast)."""
    import urllib3.connection

    from aqbench.storage import open_store

    store = open_store("s3-local", "shaped-test", {"state_dir": s3_server.state_dir})
    store.ensure_bucket()
    body = os.urandom(OBJECT_MB * 1_000_000)
    store.client.put_object(Bucket=store.bucket, Key="big", Body=body)
    shaper = lambda_network.Shaper(os.getpid() + 17)
    try:
        link = shaper.add(1, mbit)
        original = urllib3.connection.HTTPConnection.__init__

        def bound(self, *args, **kwargs):
            kwargs.setdefault("source_address", (link.address, 0))
            original(self, *args, **kwargs)

        monkeypatch.setattr(urllib3.connection.HTTPConnection, "__init__", bound)
        shaped = open_store("s3-local", "shaped-test", {"state_dir": s3_server.state_dir})  # new connections
        before = lambda_network.Shaper.counters()
        started = time.perf_counter()
        assert shaped.get("big") == body
        rate = len(body) / 1e6 / (time.perf_counter() - started)
        after = lambda_network.Shaper.counters()
        monkeypatch.undo()
        assert abs(rate - mb_s) <= 0.15 * mb_s, f"{rate:.1f} MB/s through a {mbit} Mbit/s link"
        received = after[link.download] - before.get(link.download, 0)
        assert len(body) <= received <= 1.1 * len(body)
        started = time.perf_counter()
        store.get("big")
        assert len(body) / 1e6 / (time.perf_counter() - started) > 2 * mb_s  # other traffic: unshaped
    finally:
        shaper.close()
    assert not [c for c in lambda_network.Shaper.counters() if c in (link.download, link.upload)]
