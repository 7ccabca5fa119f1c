"""engines.fetch: a reducer's partials fetched concurrently, every one once, never more in flight than asked."""

from __future__ import annotations

import threading
import time

import pytest

from aqbench.engines.fetch import fetched


def _getter(delay: float = 0.0):
    state = {"now": 0, "most": 0}
    lock = threading.Lock()

    def get(key: str) -> bytes:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(delay)
        with lock:
            state["now"] -= 1
        return key.encode()

    return get, state


@pytest.mark.parametrize("threads", [1, 3, 64])
def test_every_partial_arrives_once_with_at_most_threads_in_flight(threads):
    get, state = _getter(0.002)
    keys = [f"p{i:04d}" for i in range(200)]
    got = list(fetched(get, keys, threads))
    assert sorted(got) == sorted(k.encode() for k in keys)
    assert state["most"] <= threads
    if threads > 1:
        assert state["most"] > 1  # concurrently, not one after another
    if threads == 1:
        assert got == [k.encode() for k in keys]  # one after another, in order


def test_a_failed_fetch_ends_the_reduce_with_its_error():
    def get(key: str) -> bytes:
        if key == "p7":
            raise OSError("no such partial: p7")
        return b"x"

    with pytest.raises(OSError, match="p7"):
        list(fetched(get, [f"p{i}" for i in range(20)], 4))


def test_the_merge_is_not_kept_waiting_for_the_slowest_request():
    """Partials are handed over as they arrive: the first key's request, which cannot finish until
    the merge has the other three, does not hold them back."""
    others_merged = threading.Event()

    def get(key: str) -> bytes:
        if key == "slow":
            others_merged.wait(timeout=10)
        return key.encode()

    got = []
    for data in fetched(get, ["slow", "a", "b", "c"], 4):
        got.append(data)
        if len(got) == 3:
            others_merged.set()
    assert got[-1] == b"slow" and others_merged.is_set()
