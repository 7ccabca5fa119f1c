"""A Lambda's network for each emulated execution environment: its own shaped link on loopback.

A Lambda execution environment gets one rate whatever its memory size (``network_mbit`` of its
published facts, :mod:`aqbench.lambda_facts`),
and reads S3 in another region slower and later. Here each environment gets its own
source address in 127.0.0.0/8 (its S3 client binds its sockets to it: ``sitecustomize``
reads ``AQBENCH_SOURCE_ADDRESS``) and two HTB classes on ``lo``, selected by ``u32``
filters on that address: as destination (what it downloads) and as source (what it
uploads), each at the environment's rate. Unclassified loopback traffic is not shaped
(HTB's default class does not exist, so it passes directly). The classes' byte counters
are the environment's own traffic: read before and after a call, they are the call's.

The kernel cannot add latency here (no ``netem``), so the cross-region delay before the
first byte of each request is added in the storage client (``AQBENCH_REQUEST_DELAY_S``, a
botocore ``before-send`` hook). Traffic stays on loopback: no address outside 127.0.0.0/8.
Where ``tc`` is refused (no CAP_NET_ADMIN), nothing is shaped and rows say so.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aqbench.lambda_facts import facts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Network:
    """The emulated network: Lambda's per-environment rate (its published facts), and S3 in another
    region (the profile's ``lithops.network``)."""

    shape: bool = True
    local_mbit: float = field(default_factory=lambda: facts().network_mbit)
    remote_mbit: float = 200.0
    remote_delay_s: float = 0.08


ROOT = "1:"
DEV = "lo"
CLASS_LINE = re.compile(r"^class htb (\S+)", re.M)
CLASS_BYTES = re.compile(r"^class htb (\S+).*?\n\s*Sent (\d+) bytes", re.M | re.S)
SLOTS = 100
LINKS_PER_SLOT = 255
"""Slots of shapers and links in a slot: class ids 0x1000 + slot * 512 + 2 * link (+1) stay
below 0x10000 and never reach the next slot's."""
LOCKS = Path("/tmp/aqbench-tc")
"""Locks shared by every process shaping ``lo`` on this machine (two workflows, parallel tests):
a fixed path, since the experiments set ``TMPDIR`` to folders of their own."""


@contextmanager
def _locked(name: str = "lo", wait: bool = True) -> Iterator[bool]:
    """An exclusive lock of this machine's; without ``wait``, yields False when another holds it."""
    LOCKS.mkdir(parents=True, exist_ok=True)
    with open(LOCKS / f"{name}.lock", "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _classes(stats: bool = False) -> str:
    return _tc(*(["-s"] if stats else []), "class", "show", "dev", DEV, check=False).stdout


@dataclass(frozen=True)
class Link:
    """One environment's link: its address and its two classes (download, upload)."""

    address: str
    download: str
    upload: str
    mbit: float


def _tc(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["tc", *args], capture_output=True, text=True, check=check)


def available() -> tuple[bool, str]:
    """Whether this host lets us shape loopback traffic: a root HTB qdisc on ``lo`` can be added.

    Tried, then removed again if it was not there: asking changes nothing.
    """
    with _locked():
        try:
            added = ensure_root()
        except (OSError, subprocess.CalledProcessError) as exc:
            return False, getattr(exc, "stderr", "") or str(exc)
        if added:
            _tc("qdisc", "del", "dev", DEV, "root", check=False)
    return True, ""


def ensure_root() -> bool:
    """The HTB root qdisc on ``lo`` (shared by every service; unclassified traffic passes unshaped).

    True if it was added now.
    """
    shown = _tc("-j", "qdisc", "show", "dev", DEV)
    if any(q.get("kind") == "htb" and q.get("handle") == ROOT for q in json.loads(shown.stdout or "[]")):
        return False
    _tc("qdisc", "replace", "dev", DEV, "root", "handle", ROOT, "htb", "default", "ffff")
    return True


class Shaper:
    """The links of one service: class ids and filter priority of its own, removed at the end."""

    def __init__(self, slot: int):
        # one shaper per slot (its addresses, classes and filter priority), held for its life:
        # the first free slot from ``slot`` on, so two shapers on this machine never share one
        self._slot = contextlib.ExitStack()
        for k in range(SLOTS):
            self.slot = (slot + k) % SLOTS
            if self._slot.enter_context(_locked(f"slot-{self.slot}", wait=False)):
                break
            self._slot.close()
        else:
            raise RuntimeError(f"all {SLOTS} shaping slots on lo are in use")
        self.prio = 100 + self.slot
        self.links: list[Link] = []
        with _locked():
            ensure_root()

    def add(self, number: int, mbit: float) -> Link:
        """A link for environment ``number`` (1-based) at ``mbit`` in each direction."""
        if not 1 <= number <= LINKS_PER_SLOT:
            raise RuntimeError(f"link {number} of a shaper: at most {LINKS_PER_SLOT} environments a service")
        address = f"127.{1 + self.slot}.{number // 250}.{number % 250 + 1}"
        base = 0x1000 + self.slot * 512 + 2 * number
        link = Link(address, f"1:{base:x}", f"1:{base + 1:x}", mbit)
        rate = f"{mbit}mbit"
        with _locked():  # the root is removed when the last class goes: not between these steps
            ensure_root()
            self._add(link, rate)
        self.links.append(link)
        return link

    def _add(self, link: Link, rate: str) -> None:
        for classid in (link.download, link.upload):
            _tc(
                "class", "replace", "dev", DEV, "parent", ROOT, "classid", classid,
                "htb", "rate", rate, "ceil", rate, "quantum", "60000",
            )  # fmt: skip
        for direction, classid in (("dst", link.download), ("src", link.upload)):
            _tc(
                "filter", "add", "dev", DEV, "parent", ROOT, "protocol", "ip", "prio", str(self.prio),
                "u32", "match", "ip", direction, f"{link.address}/32", "flowid", classid,
            )  # fmt: skip

    @staticmethod
    def counters() -> dict[str, int]:
        """Bytes sent so far through every class on ``lo`` (tc prints HTB classes as text only)."""
        return {m.group(1): int(m.group(2)) for m in CLASS_BYTES.finditer(_classes(stats=True))}

    def close(self) -> None:
        remove(self.prio, [c for link in self.links for c in (link.download, link.upload)])
        self.links = []
        self._slot.close()


def shape_device(dev: str, mbit: float, netns: str | None = None) -> None:
    """Hold everything ``dev`` sends (in network namespace ``netns``) to ``mbit``: an HTB root whose
    default class has that rate and ceiling. A test host's link (:mod:`aqbench.emulated.hosts`) is
    shaped at both its ends, one per direction. Removed with the device; raises where ``tc`` is refused."""
    where = ["-n", netns] if netns else []
    rate = f"{mbit}mbit"
    _tc(*where, "qdisc", "replace", "dev", dev, "root", "handle", ROOT, "htb", "default", "1")
    _tc(*where, "class", "replace", "dev", dev, "parent", ROOT, "classid", "1:1",
        "htb", "rate", rate, "ceil", rate, "quantum", "60000")  # fmt: skip


def bind_connections(address: str) -> Callable[[], None]:
    """From now on, HTTP connections this process opens leave from ``address``, as an emulated
    environment's do (``sitecustomize``); returns the function that undoes it."""
    import urllib3.connection

    original = urllib3.connection.HTTPConnection.__init__

    def bound(self, *args, **kwargs):
        kwargs.setdefault("source_address", (address, 0))
        original(self, *args, **kwargs)

    urllib3.connection.HTTPConnection.__init__ = bound

    def restore() -> None:
        urllib3.connection.HTTPConnection.__init__ = original

    return restore


@contextmanager
def bound_connections(address: str) -> Iterator[None]:
    """HTTP connections opened in this process meanwhile leave from ``address``: a store opened
    inside reads through that link."""
    restore = bind_connections(address)
    try:
        yield
    finally:
        restore()


def remove_dead(prio: int, classids: list[str]) -> None:
    """Remove what a killed shaper left, unless a live one has taken its slot since (its filters
    share the priority, so removing them would unshape the live one's links)."""
    with _locked(f"slot-{prio - 100}", wait=False) as free:
        if free:
            remove(prio, classids)
        else:
            log.warning("slot of priority %d is in use again: a killed run's classes %s are left", prio, classids)


def remove(prio: int, classids: list[str]) -> None:
    """Remove a service's filters and classes, and the root qdisc once no class is left."""
    with _locked():
        _tc("filter", "del", "dev", DEV, "parent", ROOT, "prio", str(prio), check=False)
        for classid in classids:
            _tc("class", "del", "dev", DEV, "classid", classid, check=False)
        if not CLASS_LINE.search(_classes()):
            _tc("qdisc", "del", "dev", DEV, "root", check=False)
