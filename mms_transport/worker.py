"""Where the MM4 session meets the domain: the MM4 sender worker's bootstep and its sender.

An MM4 sender worker is a Celery worker on the threads pool consuming ``mm4.<system_id>``;
a bootstep opens ONE SMTP session (a :class:`~mms_transport.link.Link`) in the worker's
main process when it starts (``MM4_WORKER_SYSTEM_ID`` names the account) and registers an
:class:`Mm4Sender` for the ``mms`` channel with the domain. The domain's batch task drives
each batch (half-second chunks with a pause/cancel check between them, every chunk's
answers recorded at once) and hands the parts to the sender, whose link's lock and pacing
keep one transaction at a time at the account's MMS rate. On a warm shutdown the domain
waits for the batches in progress (up to ``MM4_DRAIN_S``), then the session QUITs.

A refused login stops the account's MMS sending (``stop_account_mm4``) and hands the unsent
parts back, with no retry loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from functools import partial

from celery import bootsteps
from django.conf import settings
from django.utils import timezone

from campaigns.services import transport_api
from mms_transport.adapter import endpoint, local_message_id, to_outbound, to_outcome
from mms_transport.link import AuthRefused, Link

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_link: Link | None = None
CHANNEL = "mms"


def open_link(system_id: str) -> Link:
    """Open this process's MM4 session for ``system_id`` (idempotent) and register it with
    the domain as the ``mms`` sender.

    An account already stopped is not logged in again: its key was refused and nobody has
    cleared the reason yet.
    """
    global _link
    with _lock:
        if _link is not None:
            return _link
        account = transport_api.mm4_account_settings(system_id=system_id)
        link = Link(
            endpoint(account, timeout_s=settings.MM4_TIMEOUT_S),
            rate_per_s=float(account.mms_rate),
            name=f"mm4/{system_id}",
            connect_wait_s=settings.MM4_CONNECT_WAIT_S,
        )
        _link = link
        transport_api.register(CHANNEL, Mm4Sender(link, system_id))
        if account.stopped_reason:
            logger.warning("account %s: MMS sending is stopped (%s); not logging in", system_id, account.stopped_reason)
            return link
        if not link.open() and link.auth_refused is not None:
            _stop(system_id, link.auth_refused)
        elif not link.connected:
            logger.warning("account %s: MM4 server not reachable yet (%s); still trying", system_id, link.last_error)
        return link


def close_link(drain_s: float = 0.0) -> None:
    """QUIT the session, after the domain has waited up to ``drain_s`` for the batches in
    progress: the batch in hand is sent to the end instead of being handed back as retries."""
    global _link
    transport_api.withdraw(CHANNEL, drain_s=drain_s)
    with _lock:
        if _link is not None:
            _link.close()
            _link = None


def _stop(system_id: str, exc: AuthRefused) -> None:
    transport_api.stop_account_mm4(system_id=system_id, reason=f"MM4 login refused: {exc}")
    logger.error("account %s: the MM4 server refused the login; MMS sending stopped", system_id)


class Mm4Sender:
    """The ``mms`` sender the domain sends with (:class:`transport_api.Sender`)."""

    def __init__(self, link: Link, system_id: str) -> None:
        self.link, self.system_id = link, system_id

    def segment(self, text: str, *, ref: int) -> Sequence[object]:
        """An MMS is one part whatever its text: one provider id, one receipt."""
        return [None]

    def plan(self) -> transport_api.BatchPlan:
        """This batch's plan. Settings are re-read per batch: a corrected key or a new rate
        applies without a restart; each campaign's media are read once per batch."""
        account = transport_api.mm4_account_settings(system_id=self.system_id)
        self.link.reconfigure(
            endpoint(account, timeout_s=settings.MM4_TIMEOUT_S),
            float(account.mms_rate),
            login_allowed=not account.stopped_reason,
        )
        # Chunks of about half a second of sending; each part gets its X-Mms-Message-ID
        # before its chunk is recorded as on the wire.
        return transport_api.BatchPlan(
            chunk_size=max(1, account.mms_rate // 2),
            send=_BatchSend(self.link, account),
            local_id=partial(local_message_id, domain=account.originator_domain),
        )

    def close(self) -> None:
        """Withdrawn by the domain: the session QUITs in :func:`close_link` right after."""


class _BatchSend:
    """The ``send`` of one batch, with the campaigns' contents it has read so far."""

    def __init__(self, link: Link, account: transport_api.MM4AccountSettings) -> None:
        self.link, self.account = link, account
        self.contents: dict[int, transport_api.MmsContent] = {}
        self.broken: dict[int, str] = {}

    def __call__(self, parts: list[transport_api.PartToSend]) -> list[transport_api.SubmitOutcome]:
        """Each part in turn; returns early (the rest unsent, handed back) if the account
        is stopped or the server refuses the login."""
        account, link = self.account, self.link
        if account.stopped_reason or not account.active:
            return []
        new = {p.campaign_id for p in parts} - set(self.contents) - set(self.broken)
        if new:
            loaded, failed = _load_contents(new)
            self.contents.update(loaded)
            self.broken.update(failed)
        outcomes = []
        for part in parts:
            if part.campaign_id in self.broken:
                outcomes.append(transport_api.SubmitOutcome(part, "retry", error=self.broken[part.campaign_id]))
                continue
            try:
                outbound = to_outbound(part, self.contents[part.campaign_id], account, now=timezone.now())
            except ValueError as exc:
                outcomes.append(transport_api.SubmitOutcome(part, "failed", error=str(exc)[:255]))
                continue
            try:
                result = link.submit(outbound.mail_from, outbound.rcpt_to, outbound.data)
            except AuthRefused as exc:
                _stop(account.system_id, exc)
                break
            outcomes.append(to_outcome(part, result))
        return outcomes


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
        if settings.MM4_WORKER_SYSTEM_ID:
            open_link(settings.MM4_WORKER_SYSTEM_ID)

    def stop(self, worker) -> None:
        close_link(drain_s=settings.MM4_DRAIN_S)

    def shutdown(self, worker) -> None:
        close_link()
