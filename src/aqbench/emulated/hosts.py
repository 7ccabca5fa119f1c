"""Hosts on this machine: network namespaces joined by a switch, for a cluster the tests can break.

A Dask cluster on loopback shares everything with its driver: files, the store's 127.0.0.1
address, the interpreter. A cluster of other hosts shares only a network, and loses a host
without a word. Here every host is a network namespace of its own with one link (a veth pair)
to a switch (a bridge in a namespace of its own); the driver, in this machine's namespace,
has a link to the switch too. Addresses are the project's own test network, 10.213.<slot>.0/24
(the driver .1, the hosts .2 on), so nothing reaches or touches a real interface. A link can be
shaped at both ends (:func:`aqbench.emulated.network.shape_device`, one per direction), cut
and restored, as a host's cable would be.

A slot (the third octet and the names' number) is held with a lock for the network's life, so
two test sessions on this machine never share one; what a killed session left in a free slot
is removed before the slot is used. :meth:`HostNetwork.close` kills every process left in the
hosts, deletes the namespaces and the driver's link, and waits until they are gone.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SUBNET = "10.213"
SLOTS = range(1, 251)
LOCKS = Path("/tmp/aqbench-netns")
"""Slot locks shared by every test session on this machine (a fixed path, as ``TMPDIR`` varies)."""
DEVICE = "link0"
"""Each host's own end of its link."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def available() -> tuple[bool, str]:
    """Whether this machine lets us create hosts: root, ``ip`` on PATH, and a namespace can be added
    (then removed: asking leaves nothing). Without ``tc`` the links are only left unshaped."""
    if os.geteuid() != 0:
        return False, "network namespaces need root"
    if shutil.which("ip") is None:
        return False, "ip not on PATH (iproute2)"
    probe = f"aqbprobe{os.getpid()}"
    added = _ip("netns", "add", probe, check=False)
    _ip("netns", "del", probe, check=False)
    if added.returncode:
        return False, f"cannot create a network namespace: {added.stderr.strip()}"
    return True, ""


@dataclass(frozen=True)
class Host:
    """One host: its namespace, its address on the test network, its port on the switch."""

    name: str
    netns: str
    address: str
    port: str

    def command(self, *argv: str) -> list[str]:
        """``argv`` run in this host (``ip netns exec``: its network, this machine's files)."""
        return ["ip", "netns", "exec", self.netns, *argv]

    def pids(self) -> list[int]:
        """Every process in this host's network namespace."""
        out = _ip("netns", "pids", self.netns, check=False).stdout
        return [int(p) for p in out.split()]


class HostNetwork:
    """Hosts ``names`` on one switch with the driver (this machine); a context manager.

    ``mbit``: each named host's link rate in both directions (a name absent or None: unshaped);
    where ``tc`` is refused the links stay unshaped and :attr:`shaped` says so."""

    def __init__(self, names: Sequence[str], mbit: dict[str, float | None] | None = None):
        self.slot, self._lock = _take_slot()
        prefix = f"aqb{self.slot}"
        self.switch = f"{prefix}-switch"
        self.driver_device = f"{prefix}-drv"
        self.driver_address = f"{SUBNET}.{self.slot}.1"
        self.hosts = {
            name: Host(name, f"{prefix}-{name}", f"{SUBNET}.{self.slot}.{i + 2}", f"{prefix}p{i}")
            for i, name in enumerate(names)
        }
        self.shaped: bool | None = None
        self.shape_error = ""
        try:
            _remove(prefix)  # what a killed session left in this slot
            self._create(mbit or {})
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> HostNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def _create(self, mbit: dict[str, float | None]) -> None:
        _ip("netns", "add", self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        _ip("link", "add", self.driver_device, "type", "veth", "peer", "name", "driver", "netns", self.switch)
        _ip("-n", self.switch, "link", "set", "driver", "master", "br0", "up")
        _ip("addr", "add", f"{self.driver_address}/24", "dev", self.driver_device)
        _ip("link", "set", self.driver_device, "up")
        for host in self.hosts.values():
            _ip("netns", "add", host.netns)
            _ip("-n", host.netns, "link", "set", "lo", "up")
            _ip("-n", self.switch, "link", "add", host.port, "type", "veth", "peer", "name", DEVICE,
                "netns", host.netns)  # fmt: skip
            _ip("-n", self.switch, "link", "set", host.port, "master", "br0", "up")
            _ip("-n", host.netns, "addr", "add", f"{host.address}/24", "dev", DEVICE)
            _ip("-n", host.netns, "link", "set", DEVICE, "up")
            rate = mbit.get(host.name)
            if rate and self.shaped is not False:
                self._shape(host, rate)

    def _shape(self, host: Host, mbit: float) -> None:
        from aqbench.emulated.network import shape_device

        try:
            shape_device(DEVICE, mbit, host.netns)  # what the host sends
            shape_device(host.port, mbit, self.switch)  # what it receives
            self.shaped = True
        except (OSError, subprocess.CalledProcessError) as exc:
            self.shaped, self.shape_error = False, (getattr(exc, "stderr", "") or str(exc)).strip()
            log.warning("test hosts' links not shaped: %s", self.shape_error)

    def received(self, name: str) -> int | None:
        """Bytes host ``name`` has received through its shaped link so far (None: not shaped)."""
        from aqbench.emulated.network import CLASS_BYTES, _tc

        if not self.shaped:
            return None
        shown = _tc("-n", self.switch, "-s", "class", "show", "dev", self.hosts[name].port).stdout
        return sum(int(m.group(2)) for m in CLASS_BYTES.finditer(shown))

    def cut(self, name: str) -> None:
        """Unplug host ``name``'s cable: nothing in or out, no reset sent, as a lost host."""
        _ip("-n", self.switch, "link", "set", self.hosts[name].port, "down")

    def restore(self, name: str) -> None:
        """Plug host ``name``'s cable back in."""
        _ip("-n", self.switch, "link", "set", self.hosts[name].port, "up")

    def kill(self, name: str) -> None:
        """Kill every process of host ``name`` at once (SIGKILL: a host that dies says nothing)."""
        _kill(self.hosts[name].pids())

    def close(self) -> None:
        """Every process in the hosts killed, the namespaces and the driver's link deleted and gone."""
        try:
            _remove(f"aqb{self.slot}")
        finally:
            self._lock.close()


def remains(slot: int) -> list[str]:
    """What of slot ``slot``'s network is still on this machine (nothing, once closed): its
    namespaces and the driver's link, by name."""
    prefix = f"aqb{slot}"
    link = _ip("link", "show", f"{prefix}-drv", check=False).returncode == 0
    return [*_namespaces(prefix), *([f"{prefix}-drv"] if link else [])]


def running(pids: list[int]) -> list[int]:
    """The processes of ``pids`` that still run (a zombie has ended: only its parent has not asked)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            alive.append(pid)
    return alive


def _take_slot() -> tuple[int, contextlib.ExitStack]:
    LOCKS.mkdir(parents=True, exist_ok=True)
    for slot in SLOTS:
        stack = contextlib.ExitStack()
        fh = stack.enter_context(open(LOCKS / f"slot-{slot}.lock", "a"))  # noqa: SIM115 - held for the network's life
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            stack.close()
            continue
        stack.callback(fcntl.flock, fh, fcntl.LOCK_UN)
        return slot, stack
    raise RuntimeError(f"all {len(SLOTS)} test-host slots are in use ({LOCKS})")


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _namespaces(prefix: str) -> list[str]:
    names = [line.split()[0] for line in _ip("netns", "list", check=False).stdout.splitlines() if line.strip()]
    return [n for n in names if n.startswith(f"{prefix}-")]


def _remove(prefix: str, timeout_s: float = 10.0) -> None:
    """Everything of a slot: its hosts' processes, its namespaces, the driver's link; waits until
    the kernel has removed them (namespaces are torn down asynchronously)."""
    namespaces = _namespaces(prefix)
    for ns in namespaces:
        _kill([int(p) for p in _ip("netns", "pids", ns, check=False).stdout.split()])
    deadline = time.monotonic() + timeout_s
    while any(_ip("netns", "pids", ns, check=False).stdout.split() for ns in namespaces):
        if time.monotonic() > deadline:
            raise RuntimeError(f"processes of the test hosts {namespaces} outlived SIGKILL for {timeout_s:.0f} s")
        time.sleep(0.05)
    for ns in namespaces:
        _ip("netns", "del", ns, check=False)
    _ip("link", "del", f"{prefix}-drv", check=False)
    while _ip("link", "show", f"{prefix}-drv", check=False).returncode == 0 or _namespaces(prefix):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the test hosts' namespaces or link {prefix}-drv still there after {timeout_s:.0f} s")
        time.sleep(0.05)
