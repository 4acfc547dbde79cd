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

Optional AUTH (``--auth user:password``, what you gave the provider) and implicit TLS
(``--tls-cert``); AUTH over the plain port is allowed because providers' MM4 clients often
cannot do TLS: keep it on a private network then.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from django.db import close_old_connections

from campaigns.services import transport_api
from mms_transport import mm4
from mms_transport.adapter import to_receipt

logger = logging.getLogger(__name__)
# aiosmtpd logs every command line at INFO ("mail.log"): noise per report, and the lines of an
# AUTH LOGIN exchange are credentials. Warnings and errors still come through.
logging.getLogger("mail.log").setLevel(logging.WARNING)

Resolve = Callable[[str], "int | None"]
Store = Callable[[int, list], None]


@dataclass
class ReceiverConfig:
    host: str = "127.0.0.1"
    port: int = 2526
    hostname: str = "mm4-receiver"
    ssl_context: ssl.SSLContext | None = None
    #: user -> password accepted by AUTH PLAIN/LOGIN; empty = no AUTH asked.
    auth: dict[str, str] = field(default_factory=dict, repr=False)
    max_message_bytes: int = 1_000_000


class ReportHandler:
    """aiosmtpd handler: resolve the account at RCPT, store the receipt at DATA.

    ``resolve`` (domain → account id or None) and ``store`` (account id, receipts) are
    blocking (ORM) calls; they run on a small thread pool, never on the event loop.
    """

    def __init__(self, *, resolve: Resolve, store: Store, workers: int = 4) -> None:
        self.resolve = resolve
        self.store = store
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mm4-receiver")
        self.stored = 0

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
            for account_id in getattr(envelope, "account_ids", []):
                await self._blocking(self.store, account_id, [receipt])
        except Exception:
            logger.exception("could not store an MM4 report; asking the provider to retry")
            return "451 4.3.0 Could not store the report, try again later"
        self.stored += 1
        return "250 OK stored"


def _authenticator(users: dict[str, str]) -> Callable[..., AuthResult]:
    def check(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        ok = login in users and users[login] == auth_data.password.decode("utf-8", "replace")
        return AuthResult(success=ok, handled=False)

    return check


def smtp_factory(
    handler: ReportHandler, config: ReceiverConfig, connections: weakref.WeakSet | None = None
) -> Callable[[], SMTP]:
    def make() -> SMTP:
        with warnings.catch_warnings():  # aiosmtpd warns per connection; start_server warns once
            warnings.simplefilter("ignore", UserWarning)
            protocol = _smtp()
        if connections is not None:
            connections.add(protocol)
        return protocol

    def _smtp() -> SMTP:
        return SMTP(
            handler, hostname=config.hostname, ident="MM4 receiver", decode_data=False,
            data_size_limit=config.max_message_bytes, enable_SMTPUTF8=False,
            authenticator=_authenticator(config.auth) if config.auth else None,
            auth_required=bool(config.auth), auth_require_tls=False,
        )  # fmt: skip

    return make


async def start_server(
    handler: ReportHandler, config: ReceiverConfig, connections: weakref.WeakSet | None = None
) -> asyncio.base_events.Server:
    """Listen (implicit TLS when ``config.ssl_context``); ``server.sockets[0]`` has the port."""
    if config.auth and config.ssl_context is None:
        logger.warning("MM4 receiver: AUTH on a plain connection sends credentials in clear; use --tls-cert")
    loop = asyncio.get_running_loop()
    factory = smtp_factory(handler, config, connections)
    return await loop.create_server(factory, config.host, config.port, ssl=config.ssl_context)


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
            raise failure[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None or self._thread is None:
            return

        asyncio.run_coroutine_threadsafe(shut_down(server, self._connections), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(timeout)
        self.handler.executor.shutdown(wait=False)
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


def _store(account_id: int, receipts: list) -> None:
    close_old_connections()  # a connection the database dropped is replaced, not reused
    transport_api.record_receipts(account_id=account_id, receipts=receipts)


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
