"""Group commit for deliver_sm: many receipts, one transaction, then the acks.

The bind's reader hands every deliver_sm to :meth:`InboxWriter.submit` and gets a Future;
the bind answers the SMSC only when that Future completes. A writer thread collects what
arrived in the last few milliseconds (up to ``max_batch``), parses it, stores receipts and
MO messages in one transaction, and completes the Futures: ESME_ROK after the commit, a
temporary error if the commit failed (the SMSC resends). Durable first, and thousands of
receipts a second instead of one commit each.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from django.db import close_old_connections

from campaigns.services.transport_api import InboundIn, ReceiptIn, record_deliveries
from campaigns.sms_text.encoding import EncodingError, decode
from plumbing.db import hand_back_connection
from smpp_transport.bind import InboundPdu
from smpp_transport.receipts import ReceiptError

logger = logging.getLogger(__name__)

ToReceipt = Callable[[InboundPdu], ReceiptIn | None]


class InboxWriter:
    def __init__(
        self, *, account_id: int, to_receipt: ToReceipt, max_batch: int = 1000, max_wait_s: float = 0.005
    ) -> None:
        self.account_id = account_id
        self.to_receipt = to_receipt
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self._queue: queue.SimpleQueue[tuple[InboundPdu, Future] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=f"inbox-writer-{account_id}", daemon=True)
        self._thread.start()

    def submit(self, pdu: InboundPdu) -> Future:
        """Queue a PDU for the next group; the Future completes when it is durable."""
        done: Future = Future()
        self._queue.put((pdu, done))
        return done

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            stop = False
            # The group closes max_wait_s after its first PDU, however fast they come.
            deadline = time.monotonic() + self.max_wait_s
            while len(group) < self.max_batch:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                group.append(item)
            self._write(group)
            if stop:
                return

    def _write(self, group: list[tuple[InboundPdu, Future]]) -> None:
        receipts: list[ReceiptIn] = []
        inbound: list[InboundIn] = []
        for pdu, _ in group:
            try:
                receipt = self.to_receipt(pdu)
            except ReceiptError as exc:
                # A receipt we can never match (no id): keep it visible, acknowledge it, or
                # the SMSC would resend it forever.
                logger.warning("unusable receipt from %s: %s", pdu.system_id, exc)
                receipt = ReceiptIn(provider_message_id="", status="unknown", raw=repr(pdu.short_message))
            if receipt is not None:
                receipts.append(receipt)
            else:
                inbound.append(InboundIn(pdu.source_addr, pdu.destination_addr, _mo_text(pdu), pdu.data_coding))
        try:
            close_old_connections()
            record_deliveries(account_id=self.account_id, receipts=receipts, inbound=inbound)
            hand_back_connection()
        except Exception as exc:  # noqa: BLE001 - every failure means "not stored": SMSC resends
            logger.exception("could not store %d delivered PDUs; the SMSC will resend them", len(group))
            for _, done in group:
                done.set_exception(exc)
            return
        for _, done in group:
            done.set_result(None)


def _mo_text(pdu: InboundPdu) -> str:
    """The MO's text; with a UDH that does not fit the data (a broken PDU) the whole
    short_message is kept as text rather than the writer thread failing on it."""
    try:
        return decode(pdu.short_message, pdu.data_coding, has_udh=bool(pdu.esm_class & 0x40))
    except EncodingError as exc:
        logger.warning("MO from %s with a broken UDH (%s): stored with the header as text", pdu.system_id, exc)
        return decode(pdu.short_message, pdu.data_coding)
