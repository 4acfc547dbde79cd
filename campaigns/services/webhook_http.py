"""The webhook POST on the wire: signing, and a session that connects only to allowed addresses.

SSRF: a webhook URL is chosen by an API user, and the worker that POSTs sits inside the
platform's network. A destination on loopback, link-local (cloud metadata at
169.254.169.254), private, multicast or reserved addresses is refused unless
``WEBHOOKS_ALLOW_PRIVATE`` is on. The check happens when the URL is saved
(:func:`check_url`) and again on every connect: the host is resolved, each address checked,
and the socket connects to the checked address itself, so a DNS answer that changes
between the check and the connect (DNS rebinding) cannot slip through. TLS still verifies
the certificate against the host name. Proxies from the environment are ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection as urllib3_connection


class UnsafeDestination(ValueError):
    """The URL's host resolves to an address webhooks may not reach."""


def refused_because(address: str) -> str:
    """Why webhooks may not connect to ``address`` ("" when they may)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{kind}"):
            return f"{address} is a {kind.replace('_', '-')} address"
    return ""


def checked_addresses(host: str, port: int) -> list[tuple]:
    """``getaddrinfo`` of ``host``, each address checked; UnsafeDestination if any is refused
    (a host that resolves to a private address among public ones is refused as a whole)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not settings.WEBHOOKS_ALLOW_PRIVATE:
        for info in infos:
            reason = refused_because(info[4][0])
            if reason:
                raise UnsafeDestination(
                    f"{host} resolves to {reason}: webhooks may not reach it (setting WEBHOOKS_ALLOW_PRIVATE)"
                )
    return infos


def check_url(url: str) -> None:
    """A URL an endpoint may have: http(s), a host, and (unless allowed) a public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeDestination("the URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise UnsafeDestination("the URL may not carry a user name or password (sign with the secret instead)")
    try:
        checked_addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise UnsafeDestination(f"{parts.hostname} does not resolve ({exc.strerror})") from None


class _CheckedConnect:
    """Connect to an address :func:`checked_addresses` allowed, resolved at connect time."""

    def _new_conn(self) -> socket.socket:  # urllib3's own, with the check between resolve and connect
        try:
            infos = checked_addresses(self.host, self.port)
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        except UnsafeDestination as exc:
            raise NewConnectionError(self, str(exc)) from exc
        last: OSError | None = None
        for info in infos:
            try:
                return urllib3_connection.create_connection(
                    (info[4][0], self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(self, f"Connection to {self.host} timed out") from exc
            except OSError as exc:
                last = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}")


class _CheckedHTTPConnection(_CheckedConnect, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedConnect, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}


def checked_session() -> requests.Session:
    """A requests session whose every connection is checked (see the module); no env proxies."""
    session = requests.Session()
    session.trust_env = False
    adapter = _CheckedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``X-Signature-256``: ``sha256=`` and the hex HMAC-SHA256 of ``"<timestamp>.<body>"``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"
