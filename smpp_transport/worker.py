"""Where the SMPP bind meets the domain: the bind worker's bootstep and its sender.

A bind worker is a Celery worker on the threads pool consuming ``smpp.<system_id>``; a
bootstep opens ONE bind in the worker's main process when the worker starts
(``SMPP_BIND_SYSTEM_ID`` names the account) and registers an :class:`SmppSender` for the
``sms`` channel with the domain. The domain's batch task (``campaigns.send_batch``), running
in the pool's threads, drives each batch and hands its parts to that sender; the bind's
window and pacing keep the provider's limits whatever the thread count. On a warm shutdown
the domain waits for the batches in progress, then the bind unbinds. Deliver_sm PDUs
arriving on the bind (receipts, MO) go to the durable inbox before they are acknowledged.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
from collections.abc import Callable, Sequence

from celery import bootsteps
from django.conf import settings

from campaigns.services import transport_api
from campaigns.sms_text.encoding import split_message
from plumbing.db import hand_back_connection
from plumbing.slot_lease import SlotLease
from smpp_transport import bind_slot
from smpp_transport.adapter import to_outbound, to_outcome, to_receipt
from smpp_transport.bind import Bind, BindAuthError, BindConfig
from smpp_transport.health import Heartbeat
from smpp_transport.inbox_writer import InboxWriter

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_bind: Bind | None = None
_account: transport_api.AccountSettings | None = None
_writer: InboxWriter | None = None
_heartbeat: Heartbeat | None = None
_lease: SlotLease | None = None
CHANNEL = "sms"


def bind_config(account: transport_api.AccountSettings, mode: str) -> BindConfig:
    return BindConfig(
        host=account.host,
        port=account.port,
        system_id=account.system_id,
        password=account.password,
        mode=mode,
        system_type=account.system_type,
        tls=account.tls,
        tls_ca_file=account.tls_ca_file or None,
        window=account.window,
        rate_per_s=float(account.rate_per_bind),
        enquire_link_s=float(account.enquire_link_interval),
        # Margin for the provider's time between stamping a submit and answering it (the
        # pacer takes arrival delays from the answers themselves; costs guard × rate).
        pacing_guard_s=settings.SMPP_PACING_GUARD_S,
    )


class SlotNotLeased(Exception):
    """The worker was asked to stop while it waited for its bind slot."""


def open_bind(
    system_id: str, mode: str, *, slot: int | None = None, should_stop: Callable[[], bool] = lambda: False
) -> Bind:
    """Open this process's bind for ``system_id`` (idempotent).

    With a ``slot``, first wait for its lease (docs/operations.md, *Bind slots*): raises
    :class:`SlotNotLeased` if ``should_stop`` says so first. A lease lost later (its
    connection broke: the slot may already be someone else's) stops the bind at once and
    then the worker (fencing).

    Every deliver_sm the bind receives (receipts and MO, on any bind of the system_id)
    goes through an :class:`InboxWriter`: stored in groups, acknowledged after commit. A
    bind that sends (``trx``, ``tx``) is registered with the domain as its ``sms`` sender.
    """
    global _bind, _account, _writer, _heartbeat, _lease
    with _lock:
        if _bind is not None:
            return _bind
        account = transport_api.account_settings(system_id=system_id)
        if slot is not None and _lease is None:
            _lease = bind_slot.hold_slot(
                account.id,
                system_id,
                slot,
                binds=lambda: transport_api.account_settings(system_id=system_id).binds,
                on_lost=_fence,
                should_stop=should_stop,
            )
            if _lease is None:
                raise SlotNotLeased(f"{system_id}/{slot}")
            account = transport_api.account_settings(system_id=system_id)  # as it is now, after the wait
        _writer = InboxWriter(
            account_id=account.id,
            to_receipt=lambda pdu: to_receipt(pdu, account.message_id_format),
            max_wait_s=settings.SMPP_RECEIPT_GROUP_S,
        )
        bind = Bind(bind_config(account, mode), on_deliver=_writer.submit, name=f"{system_id}/{mode}")
        try:
            bind.start(wait=True, timeout=30)
        except BindAuthError as exc:  # bad credentials; a bind refused for capacity retries
            transport_api.stop_account_smpp(system_id=system_id, reason=f"bind refused: {exc}")
            logger.error("account %s: the SMSC refused the credentials; sending stopped", system_id)
        except TimeoutError:
            # The SMSC is down or slow: the bind keeps reconnecting in the background and
            # batches wait for it (their parts come back as "retry" if it takes too long).
            logger.warning("account %s: not bound yet; still trying", system_id)
        _bind, _account = bind, account
        _heartbeat = Heartbeat(bind, system_id=system_id, mode=mode, smsc=f"{account.host}:{account.port}").start()
        if mode != "rx":
            transport_api.register(CHANNEL, SmppSender(bind, account))
        hand_back_connection()  # the worker's main thread needs no connection while it runs
        return bind


def close_bind(drain_s: float = 0.0) -> None:
    """Unbind, after the domain has waited up to ``drain_s`` for the batches in progress."""
    transport_api.withdraw(CHANNEL, drain_s=drain_s)
    _close()


def _fence(reason: str) -> None:
    """The slot's lease is gone: unbind now (a few seconds at most), then stop the worker."""
    bind = _bind
    if bind is not None:
        bind.stop(timeout=5)
    bind_slot.stop_this_worker(f"slot lease lost ({reason}); bind stopped")


def _close() -> None:
    global _bind, _writer, _heartbeat, _lease
    with _lock:
        if _bind is not None:
            _bind.stop(timeout=30)
            _bind = None
        if _heartbeat is not None:
            _heartbeat.stop()
            _heartbeat = None
        if _writer is not None:
            _writer.close()
            _writer = None
        if _lease is not None:  # after the unbind: the slot is free only once we are gone
            _lease.release()
            _lease = None


class SmppSender:
    """The ``sms`` sender the domain sends with (:class:`transport_api.Sender`): the text cut
    into submit_sm segments once, when the batch begins; parts handed to this process's bind."""

    def __init__(self, bind: Bind, account: transport_api.AccountSettings) -> None:
        self.bind, self.account = bind, account

    def segment(self, text: str, *, ref: int) -> Sequence[object]:
        """The message's segments; the concatenation reference derives from the message id,
        so a resent part carries the same reference as its siblings."""
        return split_message(text, ref=ref)

    def plan(self) -> transport_api.BatchPlan:
        # Chunks of about half a second: between them a paused or cancelled campaign is seen.
        chunk_size = max(self.account.window, self.account.rate_per_bind // 2 or 500)
        return transport_api.BatchPlan(chunk_size=chunk_size, send=self.send)

    def send(self, parts: list[transport_api.PartToSend]) -> list[transport_api.SubmitOutcome]:
        bind, account = self.bind, self.account
        results = bind.submit([to_outbound(p) for p in parts], timeout=settings.SMPP_BATCH_TIMEOUT_S)
        if bind.state == "auth_failed":
            transport_api.stop_account_smpp(system_id=account.system_id, reason=bind.last_error or "bind refused")
        return [to_outcome(r, account.message_id_format) for r in results]

    def close(self) -> None:
        """Withdrawn by the domain: the bind is closed by :func:`close_bind` right after."""


class BindStep(bootsteps.StartStopStep):
    """Worker bootstep: one SMPP bind per worker process, opened at start, unbound at stop."""

    requires = {"celery.worker.components:Pool"}

    def start(self, worker) -> None:
        system_id = settings.SMPP_BIND_SYSTEM_ID
        if system_id:
            # The bind's reader thread must get the GIL back quickly after each recv, or
            # responses queue behind batch preparation and the window stalls.
            sys.setswitchinterval(settings.SMPP_GIL_SWITCH_S)
            try:
                # Blocks until this worker's slot is leased: it consumes nothing before.
                open_bind(
                    system_id,
                    settings.SMPP_BIND_MODE,
                    slot=bind_slot.configured_slot(),
                    should_stop=bind_slot.worker_stopping,
                )
            except SlotNotLeased:
                raise SystemExit(0) from None
            # Everything loaded so far (Django, Celery, the bind) lives as long as the
            # process: move it out of the collector's reach, so that a full collection
            # takes a millisecond, not tens, and never stalls the pacer mid-second.
            gc.collect()
            gc.freeze()

    def stop(self, worker) -> None:
        # Celery stops this step before its pool: the batches in progress finish first.
        close_bind(drain_s=settings.SMPP_BATCH_TIMEOUT_S + 30)

    def shutdown(self, worker) -> None:
        close_bind(drain_s=settings.SMPP_BATCH_TIMEOUT_S + 30)
