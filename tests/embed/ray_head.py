"""A Ray head for the tests: on loopback, with its own token, stopped without touching others.

The head and every driver share `cluster_env`: Ray kept on loopback (its switch
`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`, without which Ray rewrites 127.0.0.1 into the machine's
outward address) and token authentication with one token, so neither depends on what the
machine's interfaces or `~/.ray/auth_token` happen to be. `stop` ends this head's own process
tree, never other clusters on the machine (`ray stop` would).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

RAY = Path(sys.executable).parent / "ray"
START_TIMEOUT_S = 120


def cluster_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for a head and its drivers: loopback only, one fresh auth token."""
    return {
        **(os.environ if base is None else base),
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN": secrets.token_hex(16),
        "RAY_USAGE_STATS_ENABLED": "0",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RayHead:
    """`ray start --head --block` on 127.0.0.1 with `cpus` CPUs, in a session of its own."""

    def __init__(self, env: dict[str, str], temp_dir: Path, cpus: int = 2) -> None:
        self.env = env
        self.temp_dir = temp_dir
        self.cpus = cpus
        self.port = free_port()
        self.log = temp_dir / "head.log"
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> RayHead:
        """Start the head and wait (bounded) until its GCS accepts connections."""
        command = [
            RAY, "start", "--head", "--block", f"--num-cpus={self.cpus}",
            "--node-ip-address=127.0.0.1", f"--port={self.port}", "--include-dashboard=false",
            f"--temp-dir={self.temp_dir}", "--disable-usage-stats",
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"the Ray head exited with {code}:\n{self.tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(
            f"the Ray head did not listen on {self.address} within {START_TIMEOUT_S} s:\n"
            + self.tail()
        )

    def processes(self) -> list[psutil.Process]:
        """The head and everything it started (GCS, raylet, agents, workers, actors)."""
        if self.process is None:
            return []
        try:
            head = psutil.Process(self.process.pid)
            return [head, *head.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        """End this head's process tree: politely, then for good after ten seconds."""
        tree = self.processes()
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.terminate()
        _, alive = psutil.wait_procs(tree, timeout=10)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(alive, timeout=10)
        self.process = None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


def is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def outward_sockets(processes: list[psutil.Process]) -> list[str]:
    """Every socket of `processes` with a local or remote address off loopback, described."""
    found = []
    for process in processes:
        try:
            connections = process.net_connections("inet")
            name = process.name()
        except psutil.Error:
            continue
        for conn in connections:
            ends = [conn.laddr, *([conn.raddr] if conn.raddr else [])]
            if not all(is_loopback(end.ip) for end in ends):
                found.append(f"{name} ({process.pid}) {conn.status} {conn.laddr} → {conn.raddr}")
    return found


def has_outward_address() -> bool:
    """Whether this network namespace has an address off loopback (not link-local)."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            ip = ipaddress.ip_address(address.address.split("%")[0])
            if not (ip.is_loopback or ip.is_link_local):
                return True
    return False
