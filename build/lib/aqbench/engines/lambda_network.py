"""A Lambda's network for each emulated execution environment: its own shaped link on loopback.

A Lambda execution environment gets about 625 Mbit/s (78 MB/s) whatever its memory size,
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

import json
import logging
import re
import subprocess
from dataclasses import dataclass

log = logging.getLogger(__name__)

ROOT = "1:"
DEV = "lo"
CLASS_LINE = re.compile(r"^class htb (\S+)", re.M)
CLASS_BYTES = re.compile(r"^class htb (\S+).*?\n\s*Sent (\d+) bytes", re.M | re.S)


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
        self.slot = slot % 200  # one service per slot: its addresses, classes and filter priority
        self.prio = 100 + self.slot
        self.links: list[Link] = []
        ensure_root()

    def add(self, number: int, mbit: float) -> Link:
        """A link for environment ``number`` (1-based) at ``mbit`` in each direction."""
        address = f"127.{1 + self.slot}.{number // 250}.{number % 250 + 1}"
        base = 0x1000 + (self.slot << 7) * 2 + 2 * number
        link = Link(address, f"1:{base:x}", f"1:{base + 1:x}", mbit)
        rate = f"{mbit}mbit"
        for classid in (link.download, link.upload):
            _tc(
                "class", "replace", "dev", DEV, "parent", ROOT, "classid", classid,
                "htb", "rate", rate, "ceil", rate, "quantum", "60000",
            )  # fmt: skip
        for direction, classid in (("dst", link.download), ("src", link.upload)):
            _tc(
                "filter", "add", "dev", DEV, "parent", ROOT, "protocol", "ip", "prio", str(self.prio),
                "u32", "match", "ip", direction, f"{address}/32", "flowid", classid,
            )  # fmt: skip
        self.links.append(link)
        return link

    @staticmethod
    def counters() -> dict[str, int]:
        """Bytes sent so far through every class on ``lo`` (tc prints HTB classes as text only)."""
        return {m.group(1): int(m.group(2)) for m in CLASS_BYTES.finditer(_classes(stats=True))}

    def close(self) -> None:
        remove(self.prio, [c for link in self.links for c in (link.download, link.upload)])
        self.links = []


def remove(prio: int, classids: list[str]) -> None:
    """Remove a service's filters and classes, and the root qdisc once no class is left."""
    _tc("filter", "del", "dev", DEV, "parent", ROOT, "prio", str(prio), check=False)
    for classid in classids:
        _tc("class", "del", "dev", DEV, "classid", classid, check=False)
    if not CLASS_LINE.search(_classes()):
        _tc("qdisc", "del", "dev", DEV, "root", check=False)
