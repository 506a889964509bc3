"""Hosts as network namespaces on a private bridge: names, links, cuts, and the cleanup of it all.

Every name starts with PREFIX and a run id, so that `cleanup()` (and `scripts/cluster-test
--cleanup`) finds whatever a run left behind, even one killed mid-way. The bridge has no uplink and
no forwarding: traffic stays between the namespaces and the driver's end of the bridge.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "trc"
RUNS = Path("/var/lib/terrace-cluster")  # one folder per run: database, storage, tmpfs mounts


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def available() -> str | None:
    """Why the harness cannot run here, or None."""
    if os.geteuid() != 0:
        return "the cluster harness needs root (network namespaces, veth links, tmpfs)"
    if shutil.which("ip") is None or shutil.which("unshare") is None:
        return "the cluster harness needs `ip` (iproute2) and `unshare` (util-linux)"
    return None


@dataclass
class Host:
    name: str
    address: str
    namespace: str
    link: str  # the bridge's end of the host's cable

    def exec_prefix(self) -> list[str]:
        """Run a command in this host's namespace, with the host's own name (a UTS namespace)."""
        return [
            "ip",
            "netns",
            "exec",
            self.namespace,
            "unshare",
            "--uts",
            "sh",
            "-c",
            f'hostname {self.name} && exec "$@"',
            "--",
        ]

    def pids(self) -> list[int]:
        out = ip("netns", "pids", self.namespace, check=False).stdout
        return [int(p) for p in out.split()]

    def kill_all(self) -> list[int]:
        """kill -9 every process of the host, as a power loss would."""
        killed = self.pids()
        for pid in killed:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return killed

    def cut(self) -> None:
        """Unplug the host's cable: packets are dropped, its sockets do not learn of it."""
        ip("link", "set", self.link, "down")

    def plug(self) -> None:
        ip("link", "set", self.link, "up")


@dataclass
class Network:
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:4])
    hosts: dict[str, Host] = field(default_factory=dict)

    @property
    def bridge(self) -> str:
        return f"{PREFIX}{self.run}br"

    @property
    def subnet(self) -> str:
        """10.77.X: X from the run id, so that two runs at once do not share addresses."""
        return f"10.77.{int(self.run, 16) % 256}"

    @property
    def driver_address(self) -> str:
        return f"{self.subnet}.1"

    @property
    def folder(self) -> Path:
        return RUNS / f"{PREFIX}{self.run}"

    def create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.driver_address}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")

    def add_host(self, name: str) -> Host:
        number = len(self.hosts) + 2
        host = Host(
            name, f"{self.subnet}.{number}", f"{PREFIX}{self.run}-{name}", f"{PREFIX}{self.run}{name}"
        )
        ip("netns", "add", host.namespace)
        ip("link", "add", host.link, "type", "veth", "peer", "name", "eth0", "netns", host.namespace)
        ip("link", "set", host.link, "master", self.bridge, "up")
        ip("-n", host.namespace, "addr", "add", f"{host.address}/24", "dev", "eth0")
        ip("-n", host.namespace, "link", "set", "eth0", "up")
        ip("-n", host.namespace, "link", "set", "lo", "up")
        self.hosts[name] = host
        return host

    def tmpfs(self, host: Host, size: str) -> Path:
        """A small tmpfs the host's processes use as TMPDIR."""
        folder = self.folder / f"{host.name}-tmp"
        folder.mkdir(exist_ok=True)
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=1777", "tmpfs", str(folder)], check=True
        )
        return folder

    def destroy(self) -> None:
        cleanup(f"{PREFIX}{self.run}")


def cleanup(prefix: str = PREFIX) -> list[str]:
    """Kill the processes of every namespace whose name starts with `prefix`, delete those
    namespaces, links and bridges, and unmount and remove their run folders; returns what went."""
    removed = []
    for line in ip("netns", "list", check=False).stdout.splitlines():
        namespace = line.split()[0] if line.strip() else ""
        if not namespace.startswith(prefix):
            continue
        for pid in ip("netns", "pids", namespace, check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        ip("netns", "delete", namespace, check=False)
        removed.append(f"netns {namespace}")
    for line in ip("-o", "link", "show", check=False).stdout.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(prefix):
            ip("link", "delete", name, check=False)
            removed.append(f"link {name}")
    if RUNS.exists():
        for folder in RUNS.glob(f"{prefix}*"):
            for mount in sorted(folder.glob("*-tmp")):
                subprocess.run(["umount", "-l", str(mount)], capture_output=True)
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(f"folder {folder}")
    return removed


if __name__ == "__main__":
    for removed in cleanup():
        print(f"removed {removed}")
