"""The simulated MMSC: listeners, accounts, message ids, .eml archive and report scheduling.

Connections run :class:`~mms_transport.simulator.session.SMTPSession` on one event loop;
accepted messages get an id (``250 queued as <id>``), are saved as ``<id>.eml``, and earn an
MM4_forward.RES (when X-Mms-Ack-Request: Yes) and, after ``report_delay_s``, an
MM4_delivery_report.REQ whose status is drawn from the configured outcome mix with a
seeded generator. Both refer to the message in X-Mms-Message-ID by its own X-Mms-Message-ID
(``report_id="original"``, 3GPP TS 23.140) or by the queued-as id (``"queued"``); their
RFC 5322 Message-ID is their own. Other threads observe it through
:class:`~mms_transport.simulator.runner.SimulatorThread`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mms_transport import mm4
from mms_transport.client import Endpoint

from .config import SimulatorConfig, validate_outcomes
from .reports import Report, ReportSender
from .session import SMTPSession

logger = logging.getLogger(__name__)

COUNTER_NAMES = (
    "connections",
    "auth_attempts",
    "auth_failures",
    "messages",
    "accepted",
    "refused_rcpt",
    "refused_data",
    "dropped_after_data",
    "malformed",
    "reports_queued",
    "reports_sent",
    "reports_retried",
    "reports_refused",
    "reports_skipped",
)


class MM4Server:
    """An MM4 provider following seed 001; start it on a running event loop."""

    def __init__(self, config: SimulatorConfig, on_change: Callable[[], None] | None = None) -> None:
        self.config = config
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self.messages: list[dict[str, Any]] = []
        self.auth_log: list[dict[str, Any]] = []
        self.recipient_replies = dict(config.recipient_replies)
        self.data_replies = dict(config.data_replies)
        self.drop_after_data = set(config.drop_after_data)
        self.port: int | None = config.port
        self.tls_port: int | None = config.tls_port
        self._on_change = on_change or (lambda: None)
        self._rng = random.Random(config.seed)
        self._outcomes = dict(config.outcomes)
        # A random base keeps ids unique across simulator restarts (the demo's database
        # outlives it); the counter keeps them unique within one run.
        self._next_id = 0x1000000000 + random.SystemRandom().randrange(0x6000000000)
        self._listeners: list[asyncio.Server] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self.reports = ReportSender(
            self._receiver_endpoint(config.receiver),
            counters=self.counters,
            on_change=self.changed,
            retry_s=config.report_retry_s,
        )
        if config.eml_dir is not None:
            Path(config.eml_dir).mkdir(parents=True, exist_ok=True)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the plain and/or implicit-TLS listeners and the report thread."""
        if self.config.port is not None:
            server = await asyncio.start_server(self._plain, self.config.host, self.config.port, limit=64 * 1024)
            self._listeners.append(server)
            self.port = server.sockets[0].getsockname()[1]
        if self.config.tls_port is not None:
            server = await asyncio.start_server(
                self._tls, self.config.host, self.config.tls_port, ssl=self.config.ssl_context, limit=64 * 1024
            )
            self._listeners.append(server)
            self.tls_port = server.sockets[0].getsockname()[1]
        self.reports.start()

    async def close(self) -> None:
        """Stop listening, drop every connection, stop sending reports."""
        for server in self._listeners:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        current = asyncio.current_task()
        sessions = [t for t in asyncio.all_tasks() if t is not current]
        for task in sessions:
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        for server in self._listeners:
            await server.wait_closed()
        self._listeners.clear()
        await asyncio.get_running_loop().run_in_executor(None, self.reports.stop)

    async def _plain(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._serve(reader, writer, tls=False)

    async def _tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._serve(reader, writer, tls=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, tls: bool) -> None:
        self.counters["connections"] += 1
        self._writers.add(writer)
        self.changed()
        try:
            await SMTPSession(self, reader, writer, tls).run()
        except asyncio.CancelledError:
            # Shutdown (close() cancels every session): end quietly. Re-raised, asyncio's
            # stream callback logged the cancellation as an error with a traceback.
            return
        except Exception:  # one broken connection must not take the simulator down
            logger.exception("session failed")
        finally:
            self._writers.discard(writer)
            self.changed()

    def changed(self) -> None:
        self._on_change()

    # -- live controls -------------------------------------------------------------------------

    def set_receiver(self, receiver: tuple[str, int] | None) -> None:
        self.reports.set_endpoint(self._receiver_endpoint(receiver))

    def set_outcomes(self, outcomes: dict[str, float]) -> None:
        validate_outcomes(outcomes)
        self._outcomes = dict(outcomes)

    def drop_connections(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()

    @property
    def open_connections(self) -> int:
        return len(self._writers)

    def _receiver_endpoint(self, receiver: tuple[str, int] | None) -> Endpoint | None:
        if receiver is None:
            return None
        auth = self.config.receiver_auth
        return Endpoint(
            host=receiver[0],
            port=int(receiver[1]),
            username=auth[0] if auth else None,
            password=auth[1] if auth else "",
            tls=self.config.receiver_tls,
            ca_file=self.config.receiver_ca_file,
            auth_mechanism="PLAIN",
            timeout_s=10.0,
            local_hostname=self.config.hostname,
        )

    # -- called by sessions --------------------------------------------------------------------

    def authenticate(self, user: str, key: str, mechanism: str, tls: bool) -> bool:
        ok = user in self.config.accounts and self.config.accounts[user] == key
        self.counters["auth_attempts"] += 1
        if not ok:
            self.counters["auth_failures"] += 1
        self.auth_log.append({"user": user, "mechanism": mechanism, "ok": ok, "tls": tls, "ts": time.time()})
        self.changed()
        return ok

    def recipient_reply(self, address: str) -> str | None:
        reply = self.recipient_replies.get(_number(address))
        if reply:
            self.counters["refused_rcpt"] += 1
            self.changed()
        return reply

    def accept_message(self, *, user: str, mail_from: str, rcpts: list[str], data: bytes, tls: bool) -> str | None:
        """The reply to a complete DATA; None means "drop the connection without a reply"."""
        self.counters["messages"] += 1
        numbers = [_number(r) for r in rcpts]
        try:
            if any(n in self.drop_after_data for n in numbers):
                self.counters["dropped_after_data"] += 1
                return None
            refusal = next((self.data_replies[n] for n in numbers if n in self.data_replies), None)
            if refusal:
                self.counters["refused_data"] += 1
                return refusal
            try:
                message = mm4.parse_mm4(data)
            except mm4.MM4ParseError as exc:
                self.counters["malformed"] += 1
                return f"554 5.6.0 Message format corrupt: {exc}"[:200]
            if message.message_type != mm4.FORWARD_REQ:
                self.counters["malformed"] += 1
                return f"554 5.6.0 Expected MM4_forward.REQ, got {message.message_type[:40]!r}"
            message_id = f"{self._next_id:010X}"
            self._next_id += 1
            self._archive(message_id, data)
            outcome = self._draw()
            self.counters["accepted"] += 1
            if self.config.record_messages:
                self.messages.append(
                    {
                        "id": message_id,
                        "user": user,
                        "mail_from": mail_from,
                        "rcpts": list(rcpts),
                        "numbers": numbers,
                        "tls": tls,
                        "outcome": outcome,
                        "data": data,
                        "ts": time.time(),
                        "transaction_id": message.header("X-Mms-Transaction-ID"),
                        "x_mms_message_id": message.message_id,
                    }
                )
            self._schedule_reports(message, message_id, mail_from, numbers, outcome)
            return f"250 queued as {message_id}"
        finally:
            self.changed()

    # -- internals -----------------------------------------------------------------------------

    def _draw(self) -> str:
        names = list(self._outcomes)
        return self._rng.choices(names, weights=[self._outcomes[n] for n in names])[0]

    def _archive(self, message_id: str, data: bytes) -> None:
        if self.config.eml_dir is not None:
            Path(self.config.eml_dir, f"{message_id}.eml").write_bytes(data)

    def _schedule_reports(
        self, message: mm4.MM4Message, message_id: str, mail_from: str, numbers: list[str], outcome: str
    ) -> None:
        """MM4_forward.RES now (if asked), MM4_delivery_report.REQ later (if asked and drawn)."""
        originator = message.header("X-Mms-Originator-System") or mail_from
        originator_domain = originator.rpartition("@")[2]
        sender = mm4.address_number(message.header("From") or "") or "+" + _number(mail_from)
        transaction_id = message.header("X-Mms-Transaction-ID") or message_id
        original = mm4.referenced_message_id(message)  # the forward request's X-Mms-Message-ID
        reference = original if self.config.report_id == "original" and original else message_id
        wanted = {
            mm4.FORWARD_RES: self.config.forward_res and _yes(message.header("X-Mms-Ack-Request")),
            mm4.DELIVERY_REPORT_REQ: _yes(message.header("X-Mms-Delivery-Report")) and outcome != "none",
        }
        for number in numbers:
            for kind, status_header, status, delay in (
                (mm4.FORWARD_RES, "X-Mms-Request-Status-Code", "Ok", 0.0),
                (mm4.DELIVERY_REPORT_REQ, "X-Mms-MM-Status-Code", outcome, self.config.report_delay_s),
            ):
                if not wanted[kind]:
                    continue
                report = mm4.build_report(
                    message_type=kind,
                    transaction_id=transaction_id,
                    message_id=reference,
                    sender=number,
                    recipient=sender,
                    originator_domain=originator_domain,
                    recipient_domain=self.config.hostname,
                    date=datetime.now(UTC),
                    status_header=status_header,
                    status=status,
                )
                self.reports.schedule(
                    Report(
                        kind, reference, status, f"system-user@{self.config.hostname}", originator, mm4.to_bytes(report)
                    ),
                    delay,
                )


def _number(address: str) -> str:
    """E.164 digits of an envelope address (``447700900123@host`` → ``447700900123``)."""
    return address.strip("<>").rpartition("@")[0].lstrip("+") or address


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() == "yes"
