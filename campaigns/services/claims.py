"""Claiming an account's next batches: its budget, shared among its campaigns, dealt to its binds.

Each account gets only as many messages as its binds can send within ``DISPATCH_HORIZON_S``
seconds, minus what is already queued or being submitted (:func:`capacity_per_s`), so the
broker never holds a whole campaign and pause or cancel bite within a couple of seconds.
The budget is shared among the account's running campaigns by max-min fairness and an
uncapped campaign's share dealt to the binds in whole rounds (``campaigns.services.shares``).
Messages are claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` so two ticks (or two beat
processes by mistake) never claim the same row; one tick claims an account at a time.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q

from campaigns.models import Account, Campaign, CampaignStatus, Channel, Message, RouteStrategy
from campaigns.services import routing, status
from campaigns.services.bulk_sql import update_from_values
from campaigns.services.links import has_urls, track_bodies
from campaigns.services.personalise import has_variables, recipient_context, render
from campaigns.services.quiet_hours import defer_quiet
from campaigns.services.shares import deal, whole_shares
from campaigns.statuses import IN_FLIGHT_STATUSES, S

CLAIM_LOCK_CLASS = 0x5EB70D16  # advisory lock (this, account id): one claimer per account


@dataclass(frozen=True)
class Batch:
    """A unit of work for one account's queue: message ids, never bodies."""

    account_id: int
    system_id: str
    channel: str
    message_ids: list[int]
    claim: int


Enqueue = Callable[[Batch], None]


def horizon_s() -> float:
    return settings.DISPATCH_HORIZON_S


def unpaced_rate_per_bind() -> float:
    """What one bind of an account paced at 0 (no provider cap) is assumed to send per
    second. Too low and the bind runs dry between ticks: one bind sends ~9,000/s here."""
    return settings.DISPATCH_UNPACED_RATE_PER_BIND


def batch_size(account: Account, channel: str) -> int:
    """About a second of one bind's work: small enough that pause bites fast."""
    if channel == Channel.MMS:
        return max(1, min(account.mms_rate, 50))
    if account.rate_per_bind == 0:
        return 500
    return max(10, min(account.rate_per_bind, 500))


def capacity_per_s(account: Account, channel: str) -> float:
    """What the account's binds (or its MM4 link) send per second together."""
    if channel == Channel.MMS:
        return float(account.mms_rate)
    if account.rate_per_bind == 0:
        return account.binds * unpaced_rate_per_bind()
    return float(account.binds * account.rate_per_bind)


def _room(account: Account, channel: str, campaigns: list[Campaign]) -> tuple[int, dict[int, int | None]]:
    """The account's free budget of messages, and each campaign's room (None: no cap).

    The account may have ``capacity × horizon`` messages queued; a capped campaign
    ``send_rate × horizon`` (topped up once half of it is free), less what each already
    has queued. That is only backpressure:
    the pace itself is kept at send time (``campaigns.services.pace``), so what a capped
    campaign has queued drains at its cap and its room stays accurate.
    """
    sent_by = Campaign.objects.filter(Q(account=account) | Q(route__entries__account=account), channel=channel)
    rows = (
        Message.objects.filter(campaign_id__in=sent_by.values("id"), account=account, status__in=IN_FLIGHT_STATUSES)
        .values_list("campaign_id")
        .annotate(n=Count("id"))
    )
    in_flight = dict(rows)
    free = max(0, int(capacity_per_s(account, channel) * horizon_s()) - sum(in_flight.values()))
    room: dict[int, int | None] = {}
    for c in campaigns:
        if not c.send_rate:
            room[c.id] = None
            continue
        # Topped up by half a horizon at a time: each batch of a capped campaign holds a
        # bind-worker thread while it waits for its slots, so a few large batches, not a
        # thin one every tick.
        full = max(1, int(c.send_rate * horizon_s()))
        left = max(0, full - in_flight.get(c.id, 0))
        room[c.id] = left if left * 2 >= full else 0
    return free, room


def claim_batches(*, account: Account, channel: str, now: datetime, enqueue: Enqueue) -> list[Batch]:
    """Claim the account's next messages (pending → queued), personalised, in batches.

    Each batch has its own claim token, so a redelivered batch finds its earlier attempt by
    its token alone, and is enqueued only once its claim has committed: a plain campaign's
    batches of the tick in one statement and one commit (:func:`_claim_share`), the others
    a batch per statement and transaction.
    """
    with _sole_claimer(account.id) as sole:
        if not sole:
            return []  # another tick is claiming for this account right now
        return _claim_batches(account, channel, now, enqueue)


@contextmanager
def _sole_claimer(account_id: int) -> Iterator[bool]:
    """One claimer per account at a time. Two ticks at once (beat's and the one *send now*
    enqueues, or two dispatch threads) would each read the same budget and together claim
    twice the horizon. A session-level advisory lock on PostgreSQL: the claims' own
    transactions commit inside it. SQLite runs one writer at a time anyway."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [CLAIM_LOCK_CLASS, account_id])
        (locked,) = cursor.fetchone()
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [CLAIM_LOCK_CLASS, account_id])


def _claim_batches(account: Account, channel: str, now: datetime, enqueue: Enqueue) -> list[Batch]:
    """Share the account's free budget among its running campaigns by max-min fairness
    (``campaigns.services.shares``); what a campaign cannot use (nothing due, quiet hours)
    is shared again among the others in the same tick."""
    campaigns = _campaigns_of(account, channel)
    plans = _plans(account, channel, campaigns)
    campaigns = [c for c in campaigns if c.route_id is None or c.id in plans]
    if not campaigns:
        return []
    free, room = _room(account, channel, campaigns)
    size = batch_size(account, channel)
    binds = account.binds if channel == Channel.SMS else 1  # MM4: one link, nothing to deal
    in_hand = int(capacity_per_s(account, channel) * horizon_s()) - free  # already queued or being sent
    paced = channel == Channel.MMS or account.rate_per_bind > 0
    batches: list[Batch] = []

    def add(ids: list[int], claim: int) -> None:  # inside the claim's transaction
        if not ids:
            return
        batch = Batch(account.id, account.system_id, channel, ids, claim)
        transaction.on_commit(lambda: enqueue(batch))
        batches.append(batch)

    first_pass = True
    while campaigns and free > 0:
        shares = whole_shares(free, {c.id: room[c.id] for c in campaigns}, rotate=int(now.timestamp()))
        done: set[int] = set()
        for campaign in campaigns:
            target = _Target(campaign, account.id, plans.get(campaign.id))
            share, batch, last = shares[campaign.id], size, False
            if share and room[campaign.id] is None and target.plan is None and not _has_quiet_hours(campaign):
                # An uncapped campaign's batches are dealt to the binds (a capped one's pace
                # is not theirs; routed and quiet-hour claims take fewer than they read).
                due = _due_count(campaign.id, now, limit=share + 1)
                last = due <= share  # all it has left: done after this claim
                share, batch = deal(share, size, binds, due=due, whole=first_pass, in_hand=in_hand, paced=paced)
            claimed, exhausted = _claim_share(target, share, batch, now, add)
            exhausted = exhausted or last
            free -= claimed
            if room[campaign.id] is not None:
                room[campaign.id] -= claimed
            if exhausted or room[campaign.id] == 0:
                done.add(campaign.id)
        if not done:
            break  # every campaign took its whole share: the budget is spent
        campaigns = [c for c in campaigns if c.id not in done]
        first_pass = False  # what the others left unused this tick is shared out as it is
    return batches


@dataclass
class _Target:
    """Whose messages a claim takes, for which account (``plan``: the campaign's route).
    ``after``: the last message a routed claim looked at in this tick, so the next batch
    starts past it instead of walking again over the messages other accounts were given."""

    campaign: Campaign
    account_id: int
    plan: routing.RoutePlan | None
    after: int | None = None


def _campaigns_of(account: Account, channel: str) -> list[Campaign]:
    """Running campaigns this account sends for: its own, and those of routes it is in."""
    return list(
        Campaign.objects.filter(
            Q(account=account, route__isnull=True) | Q(route__entries__account=account),
            channel=channel,
            status=CampaignStatus.RUNNING,
        )
        .select_related("route")
        .distinct()
        .order_by("id")
    )


def _plans(account: Account, channel: str, campaigns: list[Campaign]) -> dict[int, routing.RoutePlan]:
    """Each routed campaign's plan for this tick, if it gives this account anything."""
    plans: dict[int, routing.RoutePlan] = {}
    by_route: dict[int, routing.RoutePlan] = {}
    for c in campaigns:
        if c.route is None:
            continue
        if c.route_id not in by_route:
            accounts = routing.route_accounts(c.route_id)
            down = routing.unavailable_accounts(accounts, channel)
            full = set()
            if c.route.strategy == RouteStrategy.LEAST_COST:  # overflow past a cheaper account's budget
                full = {a.id for a in accounts if a.id != account.id and _room(a, channel, [])[0] == 0}
            by_route[c.route_id] = routing.plan_route(c.route, down=set(down), full=full)
        if account.id in by_route[c.route_id].account_ids:
            plans[c.id] = by_route[c.route_id]
    return plans


def _claim_share(
    target: _Target, share: int, size: int, now: datetime, add: Callable[[list[int], int], None]
) -> tuple[int, bool]:
    """Claim up to ``share`` of a campaign's due messages in batches of at most ``size``,
    each under its own claim token; returns how many, and whether fewer were due. A plain
    campaign's batches are claimed in one statement and enqueued together when it commits
    (the binds start together); the others a batch per transaction."""
    if _is_plain(target) and share > 0:
        first = secrets.randbits(62)
        with transaction.atomic():
            batches = status.claim_pending_batches(
                campaign_id=target.campaign.id,
                limit=share,
                size=size,
                first_claim=first,
                now=now,
                account_id=target.account_id,
            )
            for k, ids in enumerate(batches):
                add(ids, first + k)
        claimed = sum(len(ids) for ids in batches)
        return claimed, claimed < share
    claimed = 0
    while claimed < share:
        claim = secrets.randbits(62)
        with transaction.atomic():
            ids, exhausted = _claim_campaign(target, min(size, share - claimed), now, claim)
            if ids:
                add(ids, claim)
        claimed += len(ids)
        if exhausted or not ids:
            return claimed, True
    return claimed, False


def _has_quiet_hours(campaign: Campaign) -> bool:
    return bool(campaign.quiet_hours_start and campaign.quiet_hours_end)


def _is_plain(target: _Target) -> bool:
    """Claimed as stored: not routed, no quiet hours, no personalisation, no tracked links."""
    campaign = target.campaign
    personal = has_variables(campaign.body)
    tracked = campaign.track_links and (personal or has_urls(campaign.body))
    return target.plan is None and not _has_quiet_hours(campaign) and not personal and not tracked


def _due_count(campaign_id: int, now: datetime, *, limit: int) -> int:
    """How many of the campaign's pending messages are due now, counted up to ``limit``
    (an index range of ``(campaign, status, id)``: at most the share and one more)."""
    due = Message.objects.filter(campaign_id=campaign_id, status=S.PENDING).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )
    return due[:limit].count()


def _claim_campaign(target: _Target, limit: int, now: datetime, claim: int) -> tuple[list[int], bool]:
    """Claim up to ``limit`` due pending messages of a campaign: pending → queued.

    Returns the ids and whether the campaign had fewer than ``limit`` due. A plain routed
    campaign (no personalisation, no quiet hours) is claimed in one statement (a plain
    unrouted one, several batches at a time, by :func:`_claim_share`); otherwise the rows
    are read as named rows, filtered by quiet hours, personalised and their bodies
    written with one UPDATE … FROM VALUES. A routed campaign's messages are those its route
    gives this account (``campaigns.services.routing``), selected in the same statement.
    """
    campaign, plan = target.campaign, target.plan
    quiet = _has_quiet_hours(campaign)
    personal = has_variables(campaign.body)
    tracked = campaign.track_links and (personal or has_urls(campaign.body))
    routed = None
    if plan is not None:
        routed = routing.selection(
            plan=plan, campaign_id=campaign.id, account_id=target.account_id, limit=limit, now=now, after=target.after
        )
    if routed is not None and not quiet and not personal and not tracked:
        ids = status.claim_routed(selection=routed, account_id=target.account_id, claim=claim, now=now)
        target.after = max(ids, default=target.after)
        return ids, len(ids) < limit
    messages = Message.objects.filter(campaign=campaign, status=S.PENDING)
    if routed is not None:
        with connection.cursor() as cursor:
            cursor.execute(*routed)
            selected = [i for (i,) in cursor.fetchall()]
            target.after = max(selected, default=target.after)
            messages = Message.objects.filter(id__any=selected)
    rows = list(
        messages.select_for_update(skip_locked=True, of=("self",))
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .order_by("id")
        .values_list(
            "id",
            "phone",
            "recipient_tz",
            "contact__first_name",
            "contact__last_name",
            "contact__attributes",
            named=True,
        )[:limit]
    )
    exhausted = len(rows) < limit
    if quiet:
        rows = defer_quiet(campaign, rows, now)
    if personal or tracked:
        bodies = [(row.id, _personalised(campaign.body, row) if personal else campaign.body) for row in rows]
        if tracked:
            # After personalisation (a URL may be personalised), before the send loop
            # segments the text: each message gets its own short links.
            bodies = track_bodies(campaign=campaign, bodies=bodies, now=now)
        update_from_values(Message, columns=["body"], rows=bodies)
    ids = [row.id for row in rows]
    status.advance_messages(ids, S.QUEUED, claim=claim, account_id=target.account_id)
    return ids, exhausted


def _personalised(body: str, row: Any) -> str:
    return render(
        body,
        recipient_context(
            first_name=row.contact__first_name or "",
            last_name=row.contact__last_name or "",
            attributes=row.contact__attributes,
        ),
    )
