"""Hosts as network namespaces on one machine, for scale-out tests.

A bridge in the test's own namespace carries ``<prefix>.1`` (where the private PostgreSQL,
RabbitMQ and the SMSC simulator listen); each host is a namespace with a veth pair into
the bridge and its own address ``<prefix>.2``, ``<prefix>.3``, …. A process started with
:meth:`Hosts.argv` runs "on" a host: it reaches the services only over its veth, as a
second machine would over the network. Making namespaces needs root (CAP_NET_ADMIN);
where that fails, :func:`make_hosts` raises with the reason, so the test fails rather than
skipping.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from dataclasses import dataclass, field


class NamespacesUnavailable(RuntimeError):
    """This machine cannot make network namespaces (the reason is the message)."""


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=check)


@dataclass
class Hosts:
    tag: str
    prefix: str  # e.g. "10.213.7": the bridge is .1, the hosts .2, .3, …
    names: list[str] = field(default_factory=list)

    @property
    def bridge_ip(self) -> str:
        return f"{self.prefix}.1"

    def address(self, host: int) -> str:
        return f"{self.prefix}.{host + 2}"

    def argv(self, host: int, argv: list[str]) -> list[str]:
        """``argv`` run inside host ``host``'s namespace."""
        return ["ip", "netns", "exec", self.names[host], *argv]

    def pids(self, host: int) -> list[int]:
        out = _ip("netns", "pids", self.names[host], check=False).stdout
        return [int(p) for p in out.split()]

    def kill(self, host: int) -> list[int]:
        """SIGKILL every process of the host at once (no unbind, no unlock, no goodbye)."""
        killed = self.pids(host)
        for pid in killed:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return killed

    def close(self) -> None:
        for host in range(len(self.names)):
            self.kill(host)
            _ip("netns", "del", self.names[host], check=False)
            _ip("link", "del", f"v{self.tag}{host}", check=False)
        _ip("link", "del", f"br{self.tag}", check=False)


def make_hosts(count: int) -> Hosts:
    """``count`` hosts on a fresh bridge; raises NamespacesUnavailable with the reason."""
    tag = uuid.uuid4().hex[:6]  # interface names stay under 15 characters
    prefix = f"10.{200 + int(tag[:2], 16) % 50}.{int(tag[2:4], 16)}"
    hosts = Hosts(tag=tag, prefix=prefix)
    bridge = f"br{tag}"
    try:
        _ip("link", "add", bridge, "type", "bridge")
        _ip("addr", "add", f"{hosts.bridge_ip}/24", "dev", bridge)
        _ip("link", "set", bridge, "up")
        for host in range(count):
            name, outside, inside = f"h{tag}{host}", f"v{tag}{host}", f"p{tag}{host}"
            _ip("netns", "add", name)
            hosts.names.append(name)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", name)
            _ip("link", "set", outside, "master", bridge)
            _ip("link", "set", outside, "up")
            _ip("-n", name, "addr", "add", f"{hosts.address(host)}/24", "dev", inside)
            _ip("-n", name, "link", "set", inside, "up")
            _ip("-n", name, "link", "set", "lo", "up")
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        hosts.close()
        detail = getattr(exc, "stderr", "") or str(exc)
        raise NamespacesUnavailable(f"cannot make network namespaces here (needs root and iproute2): {detail}") from exc
    return hosts
