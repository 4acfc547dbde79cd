"""The simulated SMSC: listener, accounts, message ids, throttling and receipt routing.

All state lives on :class:`SMSCServer` and survives ``close()``/``start()``, so a restart
(simulated provider crash) keeps issuing fresh message ids and still owes the receipts it
had not delivered — like a real provider, which resends them once a receiver binds again.
Everything here runs on one event loop thread; other threads go through
:class:`~smpp_transport.smsc.runner.SimulatorThread`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any, TextIO

from . import pdu
from .config import SimulatorConfig, validate_outcomes
from .delivery import DeliveryRouter
from .receipts import (
    DeliverItem,
    OutcomePicker,
    default_err,
    format_message_id,
    message_text,
    mo_body,
    receipt_body,
)
from .session import BindSession

logger = logging.getLogger(__name__)

COUNTER_NAMES = (
    "connections",
    "binds",
    "bind_failures",
    "submits",
    "accepted",
    "throttled",
    "rejected",
    "resp_sent",
    "receipts_queued",
    "receipts_sent",
    "receipts_acked",
    "mo_queued",
    "mo_sent",
    "mo_acked",
    "deliver_nacks",
    "redeliveries",
    "requeued_on_drop",
    "enquire_links",
    "generic_nacks",
    "bind_refusals",
)

_encode = pdu.encode_pdu
_TICK_S = 0.5


class SMSCServer:
    """An SMPP 3.4 SMSC following seed 000; start it on a running event loop."""

    def __init__(self, config: SimulatorConfig, on_change: Callable[[], None] | None = None) -> None:
        self.config = config
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = config.port
        self.rate_per_bind = float(config.rate_per_bind)
        self.resp_delay_s = float(config.resp_delay_s)
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self.records: list[dict[str, Any]] = []
        self.sessions: set[BindSession] = set()
        self.router = DeliveryRouter(self.counters, config.receipt_retry_delay_s, self.changed)
        self.bound: tuple[dict[str, Any], ...] = ()
        #: system_id -> the most sessions it had bound at once (tests: "never more than 4")
        self.max_bound_per_system_id: dict[str, int] = {}
        self._rng = random.Random(config.seed)
        self._outcomes = OutcomePicker(config.outcomes, self._rng)
        # A random base keeps ids unique across process restarts too (the demo's database
        # outlives the simulator); the counter keeps them unique within one.
        self._next_id = 0x10000000 + random.SystemRandom().randrange(0x60000000)
        self._hex_ids = config.id_format == "hex"
        self._receipt_id_format = config.effective_receipt_id_format
        self._record = config.record_submits or config.log_path is not None
        self._bind_seq = 0
        self._on_change = on_change or (lambda: None)
        self._listener: asyncio.Server | None = None
        self._log: TextIO | None = None
        self._tick_handle: asyncio.TimerHandle | None = None
        timeout = config.enquire_link_timeout_s
        self._tick_s = min(_TICK_S, timeout / 4) if timeout else _TICK_S

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Listen (on the same port as before after a restart) and resume owed deliveries."""
        loop = asyncio.get_running_loop()
        self.loop = loop
        self._listener = await loop.create_server(
            lambda: BindSession(self), self.config.host, self.port, ssl=self.config.ssl_context
        )
        self.port = self._listener.sockets[0].getsockname()[1]
        if self.config.log_path is not None:
            self._log = open(self.config.log_path, "a", encoding="utf-8", buffering=1 << 20)
        self.router.attach(loop)
        self._tick_handle = loop.call_later(self._tick_s, self._tick)
        logger.info("SMSC simulator listening on %s:%s", self.config.host, self.port)

    async def close(self, *, abort: bool = False) -> None:
        """Stop listening, unbind (or abort) every bind, flush the log.

        Receipts waiting for a retry timer go back to the ready queue so the next start
        delivers them; receipts in flight on a closing bind are requeued by the session.
        """
        if self._listener is None:
            return
        self._listener.close()
        self.router.detach()
        if self._tick_handle is not None:
            self._tick_handle.cancel()
            self._tick_handle = None
        sessions = list(self.sessions)
        for session in sessions:
            session.close(unbind=not abort, abort=abort)
        await self._listener.wait_closed()
        for _ in range(100):  # TLS close can wait for the peer: bounded, then abort
            if all(s.lost for s in sessions):
                break
            await asyncio.sleep(0.01)
        for session in sessions:
            if not session.lost and session.transport is not None:
                session.transport.abort()
        await asyncio.sleep(0)
        if self._log is not None:
            self._log.close()
            self._log = None
        self._listener = None
        self.loop = None
        logger.info("SMSC simulator on port %s stopped", self.port)

    def drop_connections(self) -> None:
        """Close every bind abruptly (a provider crash) while keeping the listener."""
        for session in list(self.sessions):
            session.close(abort=True)

    # -- bookkeeping called by sessions --------------------------------------------------

    def next_bind_id(self) -> int:
        """A number that identifies a connection in records and logs."""
        self._bind_seq += 1
        return self._bind_seq

    def changed(self) -> None:
        """Wake threads blocked in SimulatorThread.wait_* helpers."""
        self._on_change()

    def authenticate(self, system_id: str, password: str) -> int:
        """Status for a bind: unknown system_id and wrong password are told apart."""
        expected = self.config.accounts.get(system_id)
        if expected is None:
            return pdu.ESME_RINVSYSID
        return pdu.ESME_ROK if expected == password else pdu.ESME_RINVPASWD

    def bound_count(self, system_id: str) -> int:
        """Sessions of ``system_id`` bound now."""
        return sum(1 for s in self.sessions if s.bind_type is not None and s.system_id == system_id)

    def bind_capacity_status(self, system_id: str) -> int:
        """ESME_RBINDFAIL when ``system_id`` already has its most sessions bound."""
        limit = self.config.max_binds_per_system_id
        if limit and self.bound_count(system_id) >= limit:
            self.counters["bind_refusals"] += 1
            logger.info("bind of %s refused: %d sessions bound already (limit %d)", system_id, limit, limit)
            return pdu.ESME_RBINDFAIL
        return pdu.ESME_ROK

    def session_opened(self, session: BindSession) -> None:
        """Count a new connection (not bound yet)."""
        self.sessions.add(session)
        self.counters["connections"] += 1
        self.changed()

    def session_bound(self, session: BindSession) -> None:
        """A successful bind; a receiver joins the rotation and gets receipts owed to it."""
        self.counters["binds"] += 1
        if session.bind_type != "tx":
            self.router.add_receiver(session)
        self._refresh_bound()
        count = self.bound_count(session.system_id or "")
        most = self.max_bound_per_system_id[session.system_id or ""] = max(
            count, self.max_bound_per_system_id.get(session.system_id or "", 0)
        )
        logger.info(
            "bind %s: %s %s from %s (%d bound for the system_id, most %d)",
            session.bind_id,
            session.system_id,
            session.bind_type,
            session.peer,
            count,
            most,
        )

    def session_closed(self, session: BindSession) -> None:
        """Forget a bind (idempotent) and requeue the deliver_sm it never acknowledged."""
        if session not in self.sessions:
            return
        self.sessions.discard(session)
        self.router.remove_session(session)
        if session.bind_type is not None:
            self._refresh_bound()
        self.changed()

    def _refresh_bound(self) -> None:
        self.bound = tuple(
            {"bind_id": s.bind_id, "system_id": s.system_id, "bind_type": s.bind_type, "peer": s.peer}
            for s in sorted(self.sessions, key=lambda s: s.bind_id)
            if s.bind_type is not None
        )

    # -- submit_sm -----------------------------------------------------------------------

    def handle_submit(self, session: BindSession, buf: bytearray, start: int, end: int, seq: int, now: float) -> bytes:
        """Answer one submit_sm: bind state, rejects, throttle, id, outcome, record."""
        counters = self.counters
        counters["submits"] += 1
        if session.bind_type is None:
            counters["rejected"] += 1
            return _encode(pdu.SUBMIT_SM_RESP, pdu.ESME_RINVBNDSTS, seq)
        sm: pdu.SubmitSm | None = None
        try:
            sm = pdu.parse_submit_sm(buf, start, end)
            status = 0
        except pdu.PDUDecodeError as exc:
            status = exc.status
        if status == 0:
            if session.bind_type == "rx":
                status = pdu.ESME_RINVBNDSTS
            elif self.config.reject_destinations:
                status = self.config.reject_destinations.get(sm.destination_addr.decode("latin-1"), 0)
        rate = self.rate_per_bind
        if status == 0 and rate > 0:
            if now - session.window_start >= 1.0:
                session.window_start = now
                session.window_count = 0
            if session.window_count >= rate:
                status = pdu.ESME_RTHROTTLED
            else:
                session.window_count += 1
        message_id = receipt = None
        if status == 0:
            number = self._next_id
            self._next_id = number + 1
            message_id = format(number, "x") if self._hex_ids else str(number)
            long_id = None
            if self.config.long_id_destinations:
                width = self.config.long_id_destinations.get(sm.destination_addr.decode("latin-1"))
                if width:
                    long_id = message_id = message_id.rjust(width, "f" if self._hex_ids else "9")[-width:]
            counters["accepted"] += 1
            stat = self._outcomes.pick()
            wanted = sm.registered_delivery & 3
            if stat is not None and (wanted == 1 or (wanted == 2 and stat != "DELIVRD")):
                self._schedule_receipt(session.system_id, number, stat, sm, now, long_id)
                receipt = stat
            resp = _encode(pdu.SUBMIT_SM_RESP, 0, seq, message_id.encode() + b"\x00")
        else:
            counters["throttled" if status == pdu.ESME_RTHROTTLED else "rejected"] += 1
            resp = _encode(pdu.SUBMIT_SM_RESP, status, seq)
        if self._record:
            self._write_record(session, seq, sm, status, message_id, receipt)
        return resp

    def _write_record(
        self,
        session: BindSession,
        seq: int,
        sm: pdu.SubmitSm | None,
        status: int,
        message_id: str | None,
        receipt: str | None,
    ) -> None:
        """One submit as the log and ``records`` keep it; ``receipt`` is the stat of the
        receipt it will get, None when it gets none (outcome "none", or not requested)."""
        record: dict[str, Any] = {
            "ts": time.time(),
            "system_id": session.system_id,
            "bind_id": session.bind_id,
            "bind_type": session.bind_type,
            "sequence": seq,
            "command_status": status,
            "message_id": message_id,
            "receipt": receipt,
        }
        if sm is not None:
            optional = {pdu.TLV_NAMES.get(t, f"0x{t:04x}"): v.hex() for t, v in sm.tlvs}
            payload = sm.short_message or bytes.fromhex(optional.get("message_payload", ""))
            udh = payload[: payload[0] + 1].hex() if sm.esm_class & 0x40 and payload else None
            record.update(
                source_addr=sm.source_addr.decode("latin-1"),
                destination_addr=sm.destination_addr.decode("latin-1"),
                data_coding=sm.data_coding,
                esm_class=sm.esm_class,
                registered_delivery=sm.registered_delivery,
                udh=udh,
                short_message_hex=sm.short_message.hex(),
                optional_params=optional,
            )
        if self.config.record_submits:
            self.records.append(record)
        if self._log is not None:
            self._log.write(json.dumps(record, separators=(",", ":")) + "\n")

    # -- receipts and MO -----------------------------------------------------------------

    def _schedule_receipt(
        self, system_id: str, number: int, stat: str, sm: pdu.SubmitSm, now: float, message_id: str | None = None
    ) -> None:
        """Queue the receipt of an accepted submit; ``message_id`` overrides the formatted id
        (an over-long id is repeated in the receipt as the resp gave it)."""
        config = self.config
        wall = time.time()
        if message_id is None:
            message_id = format_message_id(number, self._receipt_id_format, config.receipt_id_zero_pad)
        body = receipt_body(
            message_id=message_id,
            stat=stat,
            err=default_err(stat),
            submit_ts=wall,
            done_ts=wall + config.dlr_delay_s,
            text=message_text(sm),
            handset=(sm.dest_addr_ton, sm.dest_addr_npi, sm.destination_addr),
            sender=(sm.source_addr_ton, sm.source_addr_npi, sm.source_addr),
            with_tlvs=config.receipt_mode == "tlv+text",
            extra_tlv=config.extra_tlv_in_receipts,
        )
        item = DeliverItem(system_id, body, "receipt", message_id)
        self.counters["receipts_queued"] += 1
        if config.dlr_delay_s <= 0:
            self.router.enqueue(item)
        else:
            self.router.enqueue_at(now + config.dlr_delay_s, item)

    def send_receipt(self, system_id: str, message_id: str, stat: str, err: str) -> None:
        """Queue a hand-made receipt (duplicates, orphans) for a receiver of system_id."""
        now = time.time()
        body = receipt_body(
            message_id=message_id,
            stat=stat,
            err=err,
            submit_ts=now,
            done_ts=now,
            text=b"",
            handset=(1, 1, b""),
            sender=(0, 0, b""),
            with_tlvs=self.config.receipt_mode == "tlv+text",
            extra_tlv=self.config.extra_tlv_in_receipts,
        )
        self.counters["receipts_queued"] += 1
        self.router.enqueue(DeliverItem(system_id, body, "receipt", message_id))

    def send_mo(self, system_id: str, source_addr: str, destination_addr: str, text: bytes, coding: int) -> None:
        """Queue a mobile-originated deliver_sm for a receiver of system_id."""
        self.counters["mo_queued"] += 1
        body = mo_body(source_addr, destination_addr, text, coding)
        self.router.enqueue(DeliverItem(system_id, body, "mo", None))

    def set_outcomes(self, outcomes: dict[str, float]) -> None:
        """Replace the outcome weights; the seeded generator carries on."""
        validate_outcomes(outcomes)
        self._outcomes = OutcomePicker(dict(outcomes), self._rng)

    def deliver_resp(self, session: BindSession, seq: int, status: int) -> None:
        """deliver_sm_resp or generic_nack from a bind."""
        self.router.acknowledge(session, seq, status)

    # -- periodic work -------------------------------------------------------------------

    def _tick(self) -> None:
        """Flush the log; ping silent binds and close the ones that stay silent."""
        loop = self.loop
        if loop is None:
            return
        if self._log is not None:
            self._log.flush()
        timeout = self.config.enquire_link_timeout_s
        if timeout:
            now = loop.time()
            for session in list(self.sessions):
                idle = now - session.last_rx
                if idle > 2 * timeout:
                    logger.info("bind %s silent for %.1fs, closing", session.bind_id, idle)
                    session.close()
                elif idle > timeout and not session.pinged:
                    session.pinged = True
                    session.write(_encode(pdu.ENQUIRE_LINK, 0, session.next_seq()))
        self._tick_handle = loop.call_later(self._tick_s, self._tick)
