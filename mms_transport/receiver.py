"""The inbound MM4 receiver: what the provider sends back, into the receipt inbox.

An aiosmtpd server (``manage.py mm4_receiver``). The provider connects to it like to any
MTA; each message is parsed, turned into a receipt (:func:`mms_transport.adapter.to_receipt`)
and stored with ``transport_api.record_receipts`` BEFORE the ``250`` goes back, so a crash
can cause a resend, never a loss. When the database cannot take it the reply is ``451``
and the provider tries again later. The beat tick then applies the inbox to the parts,
exactly as for SMS receipts. MM4_delivery_report.REQ and MM4_forward.RES are applied;
MM4_read_reply_report.REQ and types we do not know are stored as information only; an
MM4_forward.REQ (MO MMS, not supported) and what is not MM4 are refused with ``554``.

Which account a report belongs to: ``--system-id`` when given; otherwise the domain of the
envelope recipient, matched to the one account with that MM4 originator domain (the
provider addresses reports to the ``X-Mms-Originator-System`` we sent, ``system-user@<our
domain>``). An unknown domain is refused at RCPT with 550.

Who may deliver: AUTH is required (:mod:`mms_transport.receiver_security`). The provider's
login (``MM4_RECEIVER_AUTH``) may report for every account; an account's own inbound login
only for that account (another domain is refused at RCPT with 550 5.7.1). AUTH only over
implicit TLS, or in clear from a loopback peer when that is allowed. With no login
configured at all the receiver refuses to start, unless it is told it runs a local demo
without AUTH (loopback only); reports from such unauthenticated sessions are stored with
``authenticated=False``, so they never wait for a part that has no answer yet.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from django.db import close_old_connections, connections

from campaigns.services import transport_api
from mms_transport import mm4
from mms_transport.adapter import to_receipt
from mms_transport.receiver_security import (
    HOW_TO_CONFIGURE,
    AuthThrottle,
    Credentials,
    CredentialStore,
    Network,
    PeerPolicy,
    Principal,
    ReceiverSMTP,
    authenticator,
    is_loopback_host,
)

logger = logging.getLogger(__name__)
# aiosmtpd logs every command line at INFO ("mail.log"): noise per report, and the lines of an
# AUTH LOGIN exchange are credentials. Warnings and errors still come through.
logging.getLogger("mail.log").setLevel(logging.WARNING)

Resolve = Callable[[str], "int | None"]
Store = Callable[..., None]  # (account id, receipts, *, authenticated)
AccountLogins = Callable[[], list[tuple[str, str, int]]]


class ReceiverConfigError(ValueError):
    """The receiver would be unsafe or useless as configured: it does not start."""


@dataclass
class ReceiverConfig:
    host: str = "127.0.0.1"
    port: int = 2526
    hostname: str = "mm4-receiver"
    #: implicit TLS on the listener (the certificate and key of MM4_RECEIVER_TLS_CERT/KEY).
    ssl_context: ssl.SSLContext | None = None
    #: the provider's logins (MM4_RECEIVER_AUTH): user -> password, reports for every account.
    auth: dict[str, str] = field(default_factory=dict, repr=False)
    #: the accounts' own logins, (user, password, account id); blocking, run off the loop.
    account_logins: AccountLogins | None = None
    #: False only for a local demo (--insecure-local-demo): then a loopback host is required.
    require_auth: bool = True
    #: AUTH without TLS from loopback peers (MM4_RECEIVER_PLAIN_AUTH_LOOPBACK).
    plain_auth_loopback: bool = False
    #: peer networks allowed to connect (MM4_RECEIVER_ALLOW); empty = any.
    allow: tuple[Network, ...] = ()
    auth_failure_limit: int = 5
    auth_cooloff_s: float = 900.0
    credentials_refresh_s: float = 30.0
    max_message_bytes: int = 1_000_000

    def check(self, credentials: Credentials) -> None:
        """ReceiverConfigError saying what to set when the receiver must not start."""
        if not self.require_auth:
            if not is_loopback_host(self.host):
                raise ReceiverConfigError(
                    f"--insecure-local-demo takes reports without AUTH: it only listens on a "
                    f"loopback host (127.0.0.1), not {self.host}"
                )
            return
        if not credentials:
            raise ReceiverConfigError(HOW_TO_CONFIGURE)
        if self.ssl_context is None and not self.plain_auth_loopback:
            raise ReceiverConfigError(
                "the MM4 receiver accepts AUTH over TLS only: set MM4_RECEIVER_TLS_CERT and MM4_RECEIVER_TLS_KEY "
                "(PEM files), or, for a provider on this host, MM4_RECEIVER_PLAIN_AUTH_LOOPBACK=on"
            )


class ReportHandler:
    """aiosmtpd handler: resolve the account at RCPT, store the receipt at DATA.

    ``resolve`` (domain → account id or None) and ``store`` (account id, receipts) are
    blocking (ORM) calls; they run on a small thread pool, never on the event loop.
    """

    def __init__(self, *, resolve: Resolve, store: Store, workers: int = 4) -> None:
        self.resolve = resolve
        self.store = store
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mm4-receiver")
        self.workers = workers
        self.stored = 0

    def close(self, timeout: float = 5.0) -> None:
        """Stop the pool, each thread closing its database connection first (one task per
        thread, held at a barrier so no thread takes two), so nothing is left connected."""
        barrier = threading.Barrier(self.workers)

        def close_connection() -> None:
            try:
                barrier.wait(timeout)
            except threading.BrokenBarrierError:
                pass
            connections.close_all()

        for _ in range(self.workers):
            self.executor.submit(close_connection)
        self.executor.shutdown(wait=True)

    async def _blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        domain = address.rpartition("@")[2].strip("<>").lower()
        try:
            account_id = await self._blocking(self.resolve, domain)
        except Exception:
            logger.exception("cannot look up the account of %s", domain)
            return "451 4.3.0 Temporary failure, try again later"
        if account_id is None:
            return f"550 5.1.2 No account receives MM4 reports for {domain[:100]}"
        principal = session.auth_data if session.authenticated else None
        if isinstance(principal, Principal) and principal.account_id not in (None, account_id):
            return f"550 5.7.1 The login {principal.user[:64]} may only deliver reports for its own account"
        envelope.rcpt_tos.append(address)
        accounts = getattr(envelope, "account_ids", [])
        if account_id not in accounts:
            accounts.append(account_id)
        envelope.account_ids = accounts  # type: ignore[attr-defined]
        return "250 Recipient OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else (envelope.content or "").encode()
        try:
            message = mm4.parse_mm4(content)
            receipt = to_receipt(message)
        except (mm4.MM4ParseError, ValueError) as exc:
            return f"554 5.6.0 Not a readable MM4 report: {exc}"[:200]
        if receipt is None:
            return f"554 5.6.0 {message.message_type[:40]} is not accepted here: MO MMS is not supported"
        try:
            authenticated = bool(session.authenticated)
            for account_id in getattr(envelope, "account_ids", []):
                await self._blocking(partial(self.store, authenticated=authenticated), account_id, [receipt])
        except Exception:
            logger.exception("could not store an MM4 report; asking the provider to retry")
            return "451 4.3.0 Could not store the report, try again later"
        self.stored += 1
        return "250 OK stored"


def smtp_factory(
    handler: ReportHandler,
    config: ReceiverConfig,
    store: CredentialStore,
    connections: weakref.WeakSet | None = None,
) -> Callable[[], SMTP]:
    policy = PeerPolicy(
        allow=config.allow, implicit_tls=config.ssl_context is not None, plain_auth_loopback=config.plain_auth_loopback
    )
    throttle = AuthThrottle(config.auth_failure_limit, config.auth_cooloff_s)
    check = authenticator(store, throttle)

    def make() -> SMTP:
        protocol = ReceiverSMTP(
            handler,
            policy=policy,
            throttle=throttle,
            hostname=config.hostname,
            ident="MM4 receiver",
            decode_data=False,
            data_size_limit=config.max_message_bytes,
            enable_SMTPUTF8=False,
            authenticator=check,
            auth_required=config.require_auth,
            auth_require_tls=True,
        )
        if connections is not None:
            connections.add(protocol)
        return protocol

    return make


async def load_credentials(handler: ReportHandler, config: ReceiverConfig) -> Credentials:
    """The provider's logins and, read off the loop, the accounts' own."""
    accounts = await handler._blocking(config.account_logins) if config.account_logins else []
    return Credentials(config.auth, accounts)


async def _refresh(handler: ReportHandler, config: ReceiverConfig, store: CredentialStore) -> None:
    """Re-read the accounts' logins every ``credentials_refresh_s`` (a failed read keeps the old)."""
    while True:
        await asyncio.sleep(config.credentials_refresh_s)
        try:
            store.current = await load_credentials(handler, config)
        except Exception:
            logger.exception("MM4 receiver: could not re-read the accounts' inbound logins; keeping the last ones")


async def start_server(
    handler: ReportHandler, config: ReceiverConfig, connections: weakref.WeakSet | None = None
) -> asyncio.base_events.Server:
    """Listen (implicit TLS when ``config.ssl_context``); ``server.sockets[0]`` has the port.

    ReceiverConfigError, before listening, when the configuration is unsafe (no login at
    all, AUTH that could only travel in clear, a demo without AUTH on a reachable host)."""
    credentials = await load_credentials(handler, config)
    config.check(credentials)
    store = CredentialStore(credentials)
    if not config.require_auth:
        logger.warning("MM4 receiver: --insecure-local-demo: reports are taken without AUTH on %s", config.host)
    loop = asyncio.get_running_loop()
    factory = smtp_factory(handler, config, store, connections)
    server = await loop.create_server(factory, config.host, config.port, ssl=config.ssl_context)
    if config.account_logins and config.credentials_refresh_s > 0:
        task = loop.create_task(_refresh(handler, config, store))
        server.refresh_task = task  # type: ignore[attr-defined]  # kept alive; cancelled by shut_down
    return server


async def shut_down(server: asyncio.base_events.Server, connections: weakref.WeakSet) -> None:
    """Stop listening, cut open connections (a sender retries what it did not get a 250 for),
    and let their tasks finish."""
    server.close()
    for protocol in list(connections):
        if protocol.transport is not None:
            protocol.transport.abort()
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await server.wait_closed()


class ReceiverThread:
    """The receiver on its own event loop in a daemon thread (tests); ``port`` once started."""

    def __init__(self, handler: ReportHandler, config: ReceiverConfig) -> None:
        self.handler = handler
        self.config = config
        self.port = config.port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: weakref.WeakSet = weakref.WeakSet()

    def start(self, timeout: float = 10.0) -> ReceiverThread:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            try:
                self._server = loop.run_until_complete(start_server(self.handler, self.config, self._connections))
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            self._loop, self.port = loop, self._server.sockets[0].getsockname()[1]
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="mm4-receiver", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("MM4 receiver did not start")
        if failure:
            self.handler.close()  # its threads may have read the logins: close their connections
            raise failure[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None or self._thread is None:
            return

        asyncio.run_coroutine_threadsafe(shut_down(server, self._connections), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout)
        self.handler.close()
        self._loop = self._thread = None

    def __enter__(self) -> ReceiverThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class CachedResolver:
    """domain → account id, remembered for ``ttl_s`` (a report burst costs one query per domain)."""

    def __init__(self, lookup: Resolve, ttl_s: float = 30.0) -> None:
        self.lookup = lookup
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def __call__(self, domain: str) -> int | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(domain)
        if hit and now - hit[0] < self.ttl_s:
            return hit[1]
        account_id = self.lookup(domain)
        if account_id is not None:  # unknown domains are asked again: an account may be added
            with self._lock:
                self._cache[domain] = (now, account_id)
        return account_id


def _store(account_id: int, receipts: list, *, authenticated: bool = True) -> None:
    close_old_connections()  # a connection the database dropped is replaced, not reused
    transport_api.record_receipts(account_id=account_id, receipts=receipts, authenticated=authenticated)


def account_logins() -> list[tuple[str, str, int]]:
    """The accounts' own inbound logins, as the receiver's credentials take them."""
    close_old_connections()
    return [(login.username, login.password, login.account_id) for login in transport_api.mm4_inbound_logins()]


def _lookup(domain: str) -> int | None:
    close_old_connections()
    return transport_api.mm4_account_for_domain(domain=domain)


def platform_handler(*, system_id: str | None = None) -> ReportHandler:
    """The handler wired to the domain: receipts of ``system_id``, or of the account whose
    MM4 originator domain the report is addressed to."""
    if system_id:
        account_id = transport_api.mm4_account_settings(system_id=system_id).id
        return ReportHandler(resolve=lambda domain: account_id, store=_store)
    return ReportHandler(resolve=CachedResolver(_lookup), store=_store)
