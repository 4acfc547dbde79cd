"""Where the MM4 session meets the domain: the MM4 sender worker.

An MM4 sender worker is a Celery worker on the threads pool consuming ``mm4.<system_id>``;
a bootstep opens ONE SMTP session (a :class:`~mms_transport.link.Link`) in the worker's
main process when it starts (``MM4_WORKER_SYSTEM_ID`` names the account) and QUITs after the
last task on a warm shutdown. Batch tasks, running in the pool's threads, hand their
messages to that link, whose lock and pacing keep one transaction at a time at the
account's MMS rate.

Mirrors ``smpp_transport.worker``: ids in, :func:`transport_api.send_batch` drives the
batch (half-second chunks with a pause/cancel check between them, every chunk's answers
recorded at once) and this module only sends. A refused login stops the account's MMS sending
(``stop_account_mm4``) and hands the unsent parts back, with no retry loop.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from functools import partial

from celery import bootsteps
from django.utils import timezone

from campaigns.services import transport_api
from mms_transport.adapter import count_segments, endpoint, local_message_id, to_outbound, to_outcome
from mms_transport.link import AuthRefused, Link

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_link: Link | None = None
_system_id: str | None = None
_active = 0  # batches being sent right now
_idle = threading.Condition()

TIMEOUT_S = float(os.environ.get("MM4_TIMEOUT_S", "30"))
CONNECT_WAIT_S = float(os.environ.get("MM4_CONNECT_WAIT_S", "20"))
DRAIN_S = float(os.environ.get("MM4_DRAIN_S", "60"))


def open_link(system_id: str) -> Link:
    """Open this process's MM4 session for ``system_id`` (idempotent).

    An account already stopped is not logged in again: its key was refused and nobody has
    cleared the reason yet.
    """
    global _link, _system_id
    with _lock:
        if _link is not None:
            return _link
        account = transport_api.mm4_account_settings(system_id=system_id)
        link = Link(
            endpoint(account, timeout_s=TIMEOUT_S), rate_per_s=float(account.mms_rate), name=f"mm4/{system_id}",
            connect_wait_s=CONNECT_WAIT_S,
        )  # fmt: skip
        _link, _system_id = link, system_id
        if account.stopped_reason:
            logger.warning("account %s: MMS sending is stopped (%s); not logging in", system_id, account.stopped_reason)
            return link
        if not link.open() and link.auth_refused is not None:
            _stop(system_id, link.auth_refused)
        elif not link.connected:
            logger.warning("account %s: MM4 server not reachable yet (%s); still trying", system_id, link.last_error)
        return link


def close_link(drain_s: float = 0.0) -> None:
    """QUIT the session, after waiting up to ``drain_s`` for batches in progress to finish.

    Celery stops this bootstep before its pool has drained, so a warm shutdown waits here:
    the batch in hand is sent to the end instead of being handed back as retries.
    """
    global _link
    with _idle:
        _idle.wait_for(lambda: _active == 0, timeout=drain_s)
    with _lock:
        if _link is not None:
            _link.close()
            _link = None


def _stop(system_id: str, exc: AuthRefused) -> None:
    transport_api.stop_account_mm4(system_id=system_id, reason=f"MM4 login refused: {exc}")
    logger.error("account %s: the MM4 server refused the login; MMS sending stopped", system_id)


def send_batch(message_ids: Sequence[int], claim: int) -> dict[str, int]:
    """Send one batch of MMS through this process's session and record every answer."""
    global _active
    link, system_id = _link, _system_id
    if link is None or system_id is None:
        raise RuntimeError("no MM4 session in this worker (start it with MM4_WORKER_SYSTEM_ID)")
    with _idle:
        _active += 1
    try:
        return _send_batch(link, system_id, message_ids, claim)
    finally:
        with _idle:
            _active -= 1
            _idle.notify_all()


def _send_batch(link: Link, system_id: str, message_ids: Sequence[int], claim: int) -> dict[str, int]:
    account = transport_api.mm4_account_settings(system_id=system_id)
    # Settings are re-read per batch: a corrected key or a new rate applies without a restart.
    link.reconfigure(endpoint(account, timeout_s=TIMEOUT_S), float(account.mms_rate),
                     login_allowed=not account.stopped_reason)  # fmt: skip
    contents: dict[int, transport_api.MmsContent] = {}
    broken: dict[int, str] = {}

    def send(parts: list[transport_api.PartToSend]) -> list[transport_api.SubmitOutcome]:
        """Each part in turn; returns early (the rest unsent, handed back) if the account
        is stopped or the server refuses the login."""
        if account.stopped_reason or not account.active:
            return []
        new = {p.campaign_id for p in parts} - set(contents) - set(broken)
        if new:
            loaded, failed = _load_contents(new)
            contents.update(loaded)
            broken.update(failed)
        outcomes = []
        for part in parts:
            if part.campaign_id in broken:
                outcomes.append(transport_api.SubmitOutcome(part, "retry", error=broken[part.campaign_id]))
                continue
            try:
                outbound = to_outbound(part, contents[part.campaign_id], account, now=timezone.now())
            except ValueError as exc:
                outcomes.append(transport_api.SubmitOutcome(part, "failed", error=str(exc)[:255]))
                continue
            try:
                result = link.submit(outbound.mail_from, outbound.rcpt_to, outbound.data)
            except AuthRefused as exc:
                _stop(system_id, exc)
                break
            outcomes.append(to_outcome(part, result))
        return outcomes

    # Chunks of about half a second of sending, with a pause/cancel check between them; each
    # part gets its X-Mms-Message-ID before its chunk is recorded as on the wire.
    counts = transport_api.send_batch(message_ids=message_ids, claim=claim, count_segments=count_segments,
                                      chunk_size=max(1, account.mms_rate // 2), send=send,
                                      local_id=partial(local_message_id, domain=account.originator_domain))  # fmt: skip
    logger.info("MMS batch of %d: %s", len(message_ids), counts)
    return counts


def _load_contents(campaign_ids: set[int]) -> tuple[dict[int, transport_api.MmsContent], dict[int, str]]:
    """Each campaign's subject and media, read once per batch; an unreadable file (storage
    down, file missing) makes that campaign's parts retry later instead of failing the batch."""
    contents, broken = {}, {}
    for cid in campaign_ids:
        try:
            contents[cid] = transport_api.mms_content(campaign_id=cid)
        except OSError as exc:
            logger.error("campaign %s: cannot read its media: %s", cid, exc)
            broken[cid] = f"cannot read the campaign's media: {exc}"[:255]
    return contents, broken


class MM4SessionStep(bootsteps.StartStopStep):
    """Worker bootstep: one MM4 session per worker process, opened at start, QUIT at stop."""

    requires = {"celery.worker.components:Pool"}

    def start(self, worker) -> None:
        system_id = os.environ.get("MM4_WORKER_SYSTEM_ID")
        if system_id:
            open_link(system_id)

    def stop(self, worker) -> None:
        close_link(drain_s=DRAIN_S)

    def shutdown(self, worker) -> None:
        close_link()
