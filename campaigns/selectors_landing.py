"""The admin's landing page for marketers: what is sending, what is next, what waits for
an approver, today's volume and the latest failures. Every query is bounded by an index (campaign status, message
campaign + status, the primary key), so the page stays quick on tables of millions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Case, Count, Sum, When
from django.utils import timezone

from campaigns.models import ApprovalState, Campaign, Message
from campaigns.selectors import SENT_STATUSES
from campaigns.selectors_reports import Progress, campaigns_progress
from campaigns.statuses import FAILURE_STATUSES, C

ACTIVE = (C.RUNNING, C.PAUSED, C.SCHEDULED)
SHOWN = 20
VOLUME_CACHE_S = 30


@dataclass(frozen=True)
class Volume:
    messages: int
    segments: int
    since: datetime


def _people_campaigns():
    """Campaigns people made: not API single sends, not test sends."""
    return Campaign.objects.filter(is_single_send=False, is_test=False)


def active_campaigns() -> list[tuple[Campaign, Progress]]:
    """Running and paused campaigns first, then the scheduled ones by start time."""
    order = Case(When(status=C.RUNNING, then=0), When(status=C.PAUSED, then=1), default=2)
    campaigns = list(
        _people_campaigns().filter(status__in=ACTIVE).select_related("account").order_by(order, "scheduled_at")[:SHOWN]
    )
    progress = campaigns_progress({c.id: c.status for c in campaigns})
    return [(c, progress[c.id]) for c in campaigns]


def waiting_for_approval() -> list[Campaign]:
    """Campaigns whose approval was requested and not yet decided, oldest request first
    (a partial index holds only the pending ones)."""
    pending = _people_campaigns().filter(approval_state=ApprovalState.PENDING, status__in=(C.DRAFT, *ACTIVE))
    return list(pending.select_related("created_by").order_by("id")[:SHOWN])


def todays_volume() -> Volume:
    """Messages and segments accepted since local midnight (the site's time zone), counted
    over the campaigns that sent today only; cached for half a minute."""
    since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    key = f"landing-volume:{since:%Y%m%d}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    today = Campaign.objects.filter(status__in=(C.RUNNING, C.PAUSED)) | Campaign.objects.filter(completed_at__gte=since)
    ids = list(today.values_list("id", flat=True)[:500])
    messages = Message.objects.filter(campaign_id__in=ids, status__in=SENT_STATUSES, submitted_at__gte=since)
    totals = messages.aggregate(n=Count("id"), segments=Sum("segments"))
    volume = Volume(totals["n"] or 0, totals["segments"] or 0, since)
    cache.set(key, volume, VOLUME_CACHE_S)
    return volume


def recent_failures(limit: int = 10) -> list[Message]:
    """The newest failed messages of the campaigns active in the last week (newest first, by
    id: a backward walk of the primary key, stopped after ``limit`` rows)."""
    week = timezone.now() - timedelta(days=7)
    ids = list(
        (
            _people_campaigns().filter(status__in=(C.RUNNING, C.PAUSED))
            | _people_campaigns().filter(completed_at__gte=week)
        ).values_list("id", flat=True)[:500]
    )
    return list(
        Message.objects.filter(campaign_id__in=ids, status__in=FAILURE_STATUSES)
        .select_related("campaign")
        .order_by("-id")[:limit]
    )
