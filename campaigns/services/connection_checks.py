"""The account page's "Test connection": log in once to the provider and say what it answered.

The domain imports no transport, so the transports register the probe for their channel
at start-up (``smpp_transport.probe``, ``mms_transport.probe``, from their AppConfig) and
the admin asks through ``transport_api.test_connection``. A probe opens one short-lived
session (an SMPP bind, an MM4 SMTP login), closes it, and never sends a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from campaigns.errors import ApplicationError


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    summary: str  # one sentence for the page: what was tried and what the provider said
    elapsed_ms: int = 0


Probe = Callable[[str], ConnectionCheck]  # takes the account's system_id
Health = Callable[[str], list[str]]  # the account's live connections, one sentence each
_probes: dict[str, Probe] = {}
_health: dict[str, Health] = {}


def register_probe(channel: str, probe: Probe) -> None:
    """Called by a transport's AppConfig.ready(): ``channel`` is "sms" or "mms"."""
    _probes[channel] = probe


def register_health(channel: str, health: Health) -> None:
    """Called by a transport's AppConfig.ready(): how its live connections are doing, in words."""
    _health[channel] = health


def connection_health(*, system_id: str, channel: str) -> list[str]:
    """One sentence per live connection of the account on ``channel`` (empty: none known)."""
    health = _health.get(channel)
    return health(system_id) if health else []


def test_connection(*, system_id: str, channel: str) -> ConnectionCheck:
    """Run the registered probe for ``channel`` against the account (a clear error if the
    transport is not installed)."""
    probe = _probes.get(channel)
    if probe is None:
        raise ApplicationError(f"No {channel.upper()} transport is installed to test the connection with.")
    return probe(system_id)


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
