"""Hosts as Linux network namespaces joined by a bridge: made and removed by the tests.

Layout (every name and address exists only inside what this module creates):

- a bridge ``<prefix>br`` in the root namespace holding ``10.213.<n>.1/24``: the
  private PostgreSQL listens there, and the tests (root namespace) reach the hosts
  through it;
- one namespace per host, ``<prefix>-<name>``, with a veth pair: ``eth0`` inside
  (``10.213.<n>.<11+i>/24``, default route via the bridge) and ``<prefix><name>`` on
  the bridge in the root namespace.

``<n>`` and the prefix come from the test process id, so two runs on one machine
use different names and subnets. Cutting a host off is ``ip link set eth0 down``
inside its namespace: its processes keep running, their packets go nowhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

SUBNET_PREFIX = "10.213"
FIRST_HOST_OCTET = 11
HOST_NAMES = ("a", "b", "c")


class NetworkUnavailable(Exception):
    """Namespaces cannot be made here (not root, no ``ip``, or the kernel refuses)."""


def _ip(*args: str, namespace: str | None = None) -> None:
    command = ["ip", *args] if namespace is None else ["ip", "-n", namespace, *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise NetworkUnavailable(f"{' '.join(command)}: {result.stderr.strip()}")


def why_unavailable() -> str | None:
    """Why this process cannot make namespaces, or ``None`` when it can."""
    if os.geteuid() != 0:
        return "needs root: network namespaces (ip netns add) and a bridge are made per run"
    if shutil.which("ip") is None:
        return "needs the `ip` command (iproute2)"
    return None


@dataclass(frozen=True)
class NetnsHost:
    """One host: a namespace and its address on the bridge."""

    name: str
    namespace: str
    address: str
    root_link: str
    """The veth end on the bridge (root namespace)."""

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside this host's namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]

    def cut_off(self) -> None:
        """Take the host off the network (its ``eth0`` down); its processes keep running."""
        _ip("link", "set", "eth0", "down", namespace=self.namespace)

    def reconnect(self) -> None:
        """Put the host back on the network, with its route to the bridge."""
        _ip("link", "set", "eth0", "up", namespace=self.namespace)
        gateway = self.address.rsplit(".", 1)[0] + ".1"
        # The default route goes with the link; put it back if the kernel dropped it.
        subprocess.run(
            ["ip", "-n", self.namespace, "route", "replace", "default", "via", gateway],
            capture_output=True,
            check=False,
        )


@dataclass
class Network:
    """The bridge and the host namespaces of one test run."""

    prefix: str
    subnet_octet: int
    hosts: dict[str, NetnsHost] = field(default_factory=dict)

    @property
    def bridge(self) -> str:
        """The bridge's interface name."""
        return f"{self.prefix}br"

    @property
    def gateway(self) -> str:
        """The bridge's address: where PostgreSQL listens and the hosts' default route."""
        return f"{SUBNET_PREFIX}.{self.subnet_octet}.1"

    @classmethod
    def create(cls, names: Sequence[str] = HOST_NAMES) -> Network:
        """Make the bridge and one namespace per host name; undone by :meth:`remove`.

        Raises:
            NetworkUnavailable: something could not be made (what was made is removed).
        """
        pid = os.getpid()
        network = cls(prefix=f"shmh{pid % 100000}", subnet_octet=pid % 250 + 1)
        try:
            network._create(names)
        except NetworkUnavailable:
            network.remove()
            raise
        return network

    def _create(self, names: Sequence[str]) -> None:
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for index, name in enumerate(names):
            host = NetnsHost(
                name=name,
                namespace=f"{self.prefix}-{name}",
                address=f"{SUBNET_PREFIX}.{self.subnet_octet}.{FIRST_HOST_OCTET + index}",
                root_link=f"{self.prefix}{name}",
            )
            _ip("netns", "add", host.namespace)
            self.hosts[name] = host
            _ip(
                "link", "add", host.root_link, "type", "veth", "peer", "name", "eth0",
                "netns", host.namespace,
            )  # fmt: skip
            _ip("link", "set", host.root_link, "master", self.bridge, "up")
            _ip("link", "set", "lo", "up", namespace=host.namespace)
            _ip("addr", "add", f"{host.address}/24", "dev", "eth0", namespace=host.namespace)
            _ip("link", "set", "eth0", "up", namespace=host.namespace)
            _ip("route", "add", "default", "via", self.gateway, namespace=host.namespace)

    def remove(self) -> None:
        """Delete every namespace and link this network made (best effort, never raises)."""
        for host in self.hosts.values():
            subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True, check=False)
        # Deleting a namespace deletes its veth end, which takes the peer with it.
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)
        self.hosts.clear()
