"""Who may deliver MM4 reports to the receiver: logins, peer networks, AUTH throttling, TLS.

- **Logins.** The provider's (``MM4_RECEIVER_AUTH``) may report for every account; an
  account's own inbound login only for that account's messages (the handler refuses any
  other recipient domain at RCPT). :class:`Credentials` is an immutable snapshot: the
  receiver replaces it when it re-reads the accounts, so the AUTH check, which aiosmtpd
  calls on the event loop, never touches the database.
- **Peers.** An optional allow-list of networks (``MM4_RECEIVER_ALLOW``): anyone else gets
  ``554`` instead of the greeting.
- **Throttling.** :class:`AuthThrottle`: after ``limit`` failed AUTHs from one address
  within the cool-off, that address is answered ``421`` and dropped until the cool-off has
  passed since its last failure (the admin's lockout, for SMTP).
- **TLS for AUTH.** aiosmtpd's ``auth_require_tls`` (``538``, and no AUTH in the EHLO
  answer) is decided per connection: off on the implicit-TLS listener (aiosmtpd only
  recognises STARTTLS, aio-libs/aiosmtpd#281), off for a loopback peer when plain AUTH on
  loopback is allowed, on otherwise.

:class:`ReceiverSMTP` wires these into aiosmtpd 1.4.6 (pinned): the greeting refusal
overrides ``_handle_client``, the throttle wraps ``smtp_AUTH``.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

HOW_TO_CONFIGURE = (
    "the MM4 receiver has no credentials, so it would take reports from anyone. Set "
    "MM4_RECEIVER_AUTH=user:password[,user:password...] in the environment (your provider's "
    "login, for every account), or give an account an MM4 inbound user and password in the "
    "admin (Account > MMS (MM4): reports for that account only). For a local demo without AUTH "
    "only: --insecure-local-demo, on a loopback host."
)


@dataclass(frozen=True)
class Principal:
    """Who logged in: ``account_id`` None for the provider's login (every account)."""

    user: str
    account_id: int | None


class Credentials:
    """The logins the receiver accepts, at one moment (passwords never in ``repr``)."""

    def __init__(
        self, provider: Mapping[str, str] | None = None, accounts: Iterable[tuple[str, str, int]] = ()
    ) -> None:
        self._logins: dict[str, tuple[bytes, int | None]] = {
            user: (password.encode(), None) for user, password in (provider or {}).items() if user and password
        }
        for user, password, account_id in accounts:
            if not user or not password:
                continue
            if user in self._logins:
                logger.warning(
                    "account %s: MM4 inbound user %r is also a login of MM4_RECEIVER_AUTH or "
                    "another account; that account's login is ignored",
                    account_id,
                    user,
                )
                continue
            self._logins[user] = (password.encode(), account_id)

    def __bool__(self) -> bool:
        return bool(self._logins)

    def __repr__(self) -> str:
        provider = sum(1 for _, account in self._logins.values() if account is None)
        return f"Credentials(provider={provider}, accounts={len(self._logins) - provider})"

    def check(self, login: bytes, password: bytes) -> Principal | None:
        """The principal whose password this is, or None (constant-time comparison)."""
        user = login.decode("utf-8", "replace")
        expected, account_id = self._logins.get(user, (b"\0" * 32, None))
        ok = hmac.compare_digest(expected, password) and user in self._logins
        return Principal(user, account_id) if ok else None


class AuthThrottle:
    """Failed AUTHs per peer address; ``limit`` 0 turns the throttle off."""

    MAX_TRACKED = 10_000  # addresses remembered at most (old ones pruned first)

    def __init__(self, limit: int = 5, cooloff_s: float = 900.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.cooloff_s = cooloff_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def locked_for(self, address: str) -> float:
        """Seconds ``address`` is still refused (0: it may try)."""
        if self.limit <= 0:
            return 0.0
        with self._lock:
            recent = self._recent(address)
            if len(recent) < self.limit:
                return 0.0
            return max(0.0, recent[-1] + self.cooloff_s - self.clock())

    def failed(self, address: str) -> float:
        """Count one failure; the seconds ``address`` is now refused (0 while under the limit)."""
        if self.limit <= 0:
            return 0.0
        with self._lock:
            if len(self._failures) >= self.MAX_TRACKED and address not in self._failures:
                self._prune()
            recent = self._recent(address)
            recent.append(self.clock())
            while len(recent) > self.limit:
                recent.popleft()
        return self.locked_for(address)

    def succeeded(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)

    def _recent(self, address: str) -> deque[float]:
        recent = self._failures.setdefault(address, deque())
        horizon = self.clock() - self.cooloff_s
        while recent and recent[0] < horizon:
            recent.popleft()
        return recent

    def _prune(self) -> None:
        horizon = self.clock() - self.cooloff_s
        for address in [a for a, times in self._failures.items() if not times or times[-1] < horizon]:
            del self._failures[address]
        while len(self._failures) >= self.MAX_TRACKED:  # all recent: forget the oldest
            del self._failures[next(iter(self._failures))]


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """CIDRs (``10.0.0.0/8``, ``2001:db8::/32``, a bare address) or ValueError naming the bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"MM4_RECEIVER_ALLOW: {value.strip()!r} is not a network (e.g. 192.0.2.0/24)") from None
    return tuple(networks)


def peer_address(peer: Any) -> IPAddress | None:
    """The peer's IP address (an IPv4-mapped IPv6 address as IPv4), None when not an IP peer."""
    host = peer[0] if isinstance(peer, tuple) and peer else peer
    try:
        address = ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_loopback_host(host: str) -> bool:
    """True for a listening host that only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    address = peer_address(host)
    return address is not None and address.is_loopback


@dataclass(frozen=True)
class PeerPolicy:
    """What the receiver lets each connection do, by its peer address."""

    allow: tuple[Network, ...] = ()
    implicit_tls: bool = False
    plain_auth_loopback: bool = False

    def refusal(self, address: IPAddress | None) -> str | None:
        """The reply that replaces the greeting for a peer outside the allow-list, else None."""
        if not self.allow or (address is not None and any(address in net for net in self.allow)):
            return None
        return f"554 5.7.1 {address} may not deliver MM4 reports here (not in MM4_RECEIVER_ALLOW)"

    def auth_requires_tls(self, address: IPAddress | None) -> bool:
        if self.implicit_tls:
            return False  # the whole connection is encrypted
        return not (self.plain_auth_loopback and address is not None and address.is_loopback)


class CredentialStore:
    """The current :class:`Credentials`, swapped whole when the accounts are re-read."""

    def __init__(self, credentials: Credentials) -> None:
        self.current = credentials


def authenticator(store: CredentialStore, throttle: AuthThrottle) -> Callable[..., AuthResult]:
    """aiosmtpd's ``authenticator``: a :class:`Principal` as ``session.auth_data`` on success."""

    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        address = str(peer_address(session.peer))
        principal = store.current.check(auth_data.login, auth_data.password)
        if principal is not None:
            throttle.succeeded(address)
            return AuthResult(success=True, auth_data=principal)
        locked = throttle.failed(address)
        logger.warning("MM4 receiver: failed AUTH from %s%s", address, " (now locked out)" if locked else "")
        if locked:
            return AuthResult(success=False, handled=False, message=too_many(address, locked))
        return AuthResult(success=False, handled=False)

    return check


def too_many(address: str, seconds: float) -> str:
    return f"421 4.7.0 Too many failed logins from {address}; try again in {math.ceil(seconds)} s"


class ReceiverSMTP(SMTP):
    """aiosmtpd's SMTP with the peer policy and the AUTH throttle of one listener."""

    def __init__(self, handler: Any, *, policy: PeerPolicy, throttle: AuthThrottle, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.policy = policy
        self.throttle = throttle
        self.peer_ip: IPAddress | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.peer_ip = peer_address(transport.get_extra_info("peername"))
        self._auth_require_tls = self.policy.auth_requires_tls(self.peer_ip)
        super().connection_made(transport)

    async def _handle_client(self) -> None:
        refusal = self.policy.refusal(self.peer_ip)
        locked = self.throttle.locked_for(str(self.peer_ip))
        if refusal or locked:
            await self.push(refusal or too_many(str(self.peer_ip), locked))
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()

    async def smtp_AUTH(self, arg: str) -> None:
        locked = self.throttle.locked_for(str(self.peer_ip))
        if not locked:
            await super().smtp_AUTH(arg)
            locked = self.throttle.locked_for(str(self.peer_ip))
            if not locked:
                return
        else:
            await self.push(too_many(str(self.peer_ip), locked))
        if self.transport is not None:
            self.transport.close()
