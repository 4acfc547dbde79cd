"""Where the SMPP bind meets the domain: the bind worker.

A bind worker is a Celery worker on the threads pool consuming ``smpp.<system_id>``; a
bootstep opens ONE bind in the worker's main process when the worker starts
(``SMPP_BIND_SYSTEM_ID`` names the account) and unbinds cleanly after the last task on a
warm shutdown. Batch tasks, running in the pool's threads, hand their parts to that bind;
the bind's window and pacing keep the provider's limits whatever the thread count.
Deliver_sm PDUs arriving on the bind (receipts, MO) go to the durable inbox before they are
acknowledged.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence

from celery import bootsteps

from campaigns.services import transport_api
from smpp_transport.adapter import count_segments, to_outbound, to_outcome, to_receipt
from smpp_transport.bind import Bind, BindAuthError, BindConfig
from smpp_transport.health import Heartbeat
from smpp_transport.inbox_writer import InboxWriter

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_bind: Bind | None = None
_account: transport_api.AccountSettings | None = None
_writer: InboxWriter | None = None
_heartbeat: Heartbeat | None = None

BATCH_TIMEOUT_S = float(os.environ.get("SMPP_BATCH_TIMEOUT_S", "120"))


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
        pacing_guard_s=float(os.environ.get("SMPP_PACING_GUARD_S", BindConfig.pacing_guard_s)),
    )


def open_bind(system_id: str, mode: str) -> Bind:
    """Open this process's bind for ``system_id`` (idempotent).

    Every deliver_sm the bind receives (receipts and MO, on any bind of the system_id)
    goes through an :class:`InboxWriter`: stored in groups, acknowledged after commit.
    """
    global _bind, _account, _writer, _heartbeat
    with _lock:
        if _bind is not None:
            return _bind
        account = transport_api.account_settings(system_id=system_id)
        _writer = InboxWriter(account_id=account.id, to_receipt=lambda pdu: to_receipt(pdu, account.message_id_format))
        bind = Bind(bind_config(account, mode), on_deliver=_writer.submit, name=f"{system_id}/{mode}")
        try:
            bind.start(wait=True, timeout=30)
        except BindAuthError as exc:
            transport_api.stop_account_smpp(system_id=system_id, reason=f"bind refused: {exc}")
            logger.error("account %s: the SMSC refused the credentials; sending stopped", system_id)
        except TimeoutError:
            # The SMSC is down or slow: the bind keeps reconnecting in the background and
            # batches wait for it (their parts come back as "retry" if it takes too long).
            logger.warning("account %s: not bound yet; still trying", system_id)
        _bind, _account = bind, account
        _heartbeat = Heartbeat(bind, system_id=system_id, mode=mode, smsc=f"{account.host}:{account.port}").start()
        return bind


def close_bind() -> None:
    global _bind, _writer, _heartbeat
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


def send_batch(message_ids: Sequence[int], claim: int) -> dict[str, int]:
    """Send one batch through this process's bind; the domain records every answer in bulk."""
    if _bind is None or _account is None:
        raise RuntimeError("no SMPP bind in this worker (start it with SMPP_BIND_SYSTEM_ID)")
    bind, account = _bind, _account

    def send(parts: list[transport_api.PartToSend]) -> list[transport_api.SubmitOutcome]:
        results = bind.submit([to_outbound(p) for p in parts], timeout=BATCH_TIMEOUT_S)
        if bind.state == "auth_failed":
            transport_api.stop_account_smpp(system_id=account.system_id, reason=bind.last_error or "bind refused")
        return [to_outcome(r, account.message_id_format) for r in results]

    started = time.perf_counter()
    # Chunks of about half a second: between them a paused or cancelled campaign is seen.
    counts = transport_api.send_batch(
        message_ids=message_ids, claim=claim, count_segments=count_segments,
        chunk_size=max(account.window, account.rate_per_bind // 2 or 500), send=send,
    )  # fmt: skip
    logger.info("batch of %d messages in %.0f ms: %s", len(message_ids), (time.perf_counter() - started) * 1000, counts)
    return counts


class BindStep(bootsteps.StartStopStep):
    """Worker bootstep: one SMPP bind per worker process, opened at start, unbound at stop."""

    requires = {"celery.worker.components:Pool"}

    def start(self, worker) -> None:
        system_id = os.environ.get("SMPP_BIND_SYSTEM_ID")
        if system_id:
            # The bind's reader thread must get the GIL back quickly after each recv, or
            # responses queue behind batch preparation and the window stalls.
            sys.setswitchinterval(float(os.environ.get("SMPP_GIL_SWITCH_S", "0.0005")))
            open_bind(system_id, os.environ.get("SMPP_BIND_MODE", "trx"))
            # Everything loaded so far (Django, Celery, the bind) lives as long as the
            # process: move it out of the collector's reach, so that a full collection
            # takes a millisecond, not tens, and never stalls the pacer mid-second.
            gc.collect()
            gc.freeze()

    def stop(self, worker) -> None:
        _wait_for_running_batches()
        close_bind()

    def shutdown(self, worker) -> None:
        _wait_for_running_batches()
        close_bind()


def _wait_for_running_batches() -> None:
    """Warm shutdown: let the batches in progress finish before the bind unbinds.

    Celery stops this step before its pool (the reverse of the start order), while pool
    threads may still be submitting; closing the bind under them would leave their parts
    ambiguous. The consumer has already stopped fetching, so this ends within one batch.
    """
    from celery.worker import state

    deadline = time.monotonic() + BATCH_TIMEOUT_S + 30
    idle = threading.Event()
    while state.active_requests and time.monotonic() < deadline:
        idle.wait(0.05)
