"""The live figures of a campaign: the funnel, the sending rate, the ETA and the time elapsed.

What a marketer watches during a send, polled every two seconds by the report and campaign
pages and returned by the stats API. Cheap by construction, so it can be fresh:

- the counts per status (messages and segments) are not counted from the messages: on
  PostgreSQL a statement-level trigger appends each statement's net change per (campaign,
  status) to ``MessageStatusDelta`` (migration 0016), and the figures are the sum of a few
  thousand such rows, folded into one per status when they pile up
  (``campaigns.services.status_counts``). Counting a million messages off the (campaign,
  status) index took 0.1 s on an idle machine and 0.8 s under load; the sum takes
  milliseconds whatever the campaign's size (bench/report_page.py);
- figures of a running campaign are cached for ``LIVE_CACHE_S`` (2 s): any number of
  viewers cost one count every two seconds, and no figure is older than that plus a poll;
  a settled campaign's are cached for a minute under a key that includes its status, so
  the first figures after completion are counted afresh and exact;
- the rate is not counted from timestamps (there is no index on ``submitted_at`` and there
  should not be one on this hot table): every count is kept as a sample (time, sent, sent
  segments) in the cache, and the rate is the difference over the last ten seconds.

The ETA uses the pace the campaign is really given: the account's capacity shared by max-min
fairness with its other running campaigns (``campaigns.services.shares``), never above the
campaign's cap, stretched over the quiet hours' daily window, over the segments still to
send. When the pace measured over a whole ten seconds is lower (throttling, a bind down), the
measured one is used: the ETA follows what the provider actually takes.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Message, MessageStatusDelta
from campaigns.selectors import SENT_STATUSES, WAITING_STATUSES
from campaigns.services import status_counts
from campaigns.services.claims import capacity_per_s
from campaigns.services.shares import fair_shares
from campaigns.statuses import FAILURE_STATUSES, S

LIVE_CACHE_S = 2.0
SETTLED_CACHE_S = 60
RATE_WINDOW_S = 10.0
SAMPLES_KEEP_S = 30.0
DAY_S = 86400.0
SETTLED = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)


@dataclass(frozen=True)
class LiveFigures:
    """Counts are of messages; ``*_segments`` of SMS segments (an MMS is one)."""

    status: str
    total: int
    waiting: int
    sent: int
    delivered: int
    failed: int
    unknown: int
    suppressed: int
    cancelled: int
    segments: int
    sent_segments: int
    waiting_segments: int
    rate_per_s: float | None
    segments_per_s: float | None
    eta_s: float | None
    elapsed_s: float | None
    computed_at: float
    by_status: dict[str, int]

    @property
    def sendable(self) -> int:
        return self.total - self.suppressed - self.cancelled

    @property
    def delivery_rate(self) -> float | None:
        """Delivered of sent, in percent (suppressed and cancelled never reached the network)."""
        return round(100.0 * self.delivered / self.sent, 1) if self.sent else None

    def percent(self, count: int) -> float:
        return round(100.0 * count / self.sendable, 1) if self.sendable else 0.0

    def as_dict(self) -> dict:
        return asdict(self) | {"sendable": self.sendable, "delivery_rate": self.delivery_rate}


class StatusCount(NamedTuple):
    """One status's figures in :func:`count_by_status` (a tuple: compares equal to one)."""

    messages: int
    segments: int


class _StatusRow(NamedTuple):
    status: str
    messages: int
    segments: int
    deltas: int  # rollup rows summed (0 without the rollup): many means time to compact


def count_by_status(campaign_id: int) -> dict[str, StatusCount]:
    """``{status: (messages, segments)}``: on PostgreSQL the sum of the campaign's status
    deltas (a few thousand rows at most, folded when more), elsewhere a GROUP BY."""
    if connection.vendor != "postgresql":
        table = connection.ops.quote_name(Message._meta.db_table)
        sql = f"SELECT status, COUNT(*), COALESCE(SUM(segments), 0), 0 FROM {table} WHERE campaign_id = %s"
    else:
        table = connection.ops.quote_name(MessageStatusDelta._meta.db_table)
        sql = f"SELECT status, SUM(messages), SUM(segments), COUNT(*) FROM {table} WHERE campaign_id = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql + " GROUP BY status", [campaign_id])
        rows = [_StatusRow(*row) for row in cursor.fetchall()]
    if sum(r.deltas for r in rows) > status_counts.COMPACT_ABOVE:
        # The one write in a selector, on purpose: folding the rollup changes no figure,
        # and doing it where the rows are summed keeps them few without another job.
        status_counts.compact(campaign_id=campaign_id)
    return {r.status: StatusCount(int(r.messages), int(r.segments)) for r in rows if r.messages}


def live_figures(campaign: Campaign, *, fresh: bool = False) -> LiveFigures:
    """The campaign's figures, at most ``LIVE_CACHE_S`` old while it runs (see the module)."""
    settled = campaign.status in SETTLED
    key = f"live-figures:{campaign.id}:{campaign.status}"
    figures = None if fresh else cache.get(key)
    if figures is None:
        figures = _compute(campaign)
        cache.set(key, figures, SETTLED_CACHE_S if settled else LIVE_CACHE_S)
    return figures


def _compute(campaign: Campaign) -> LiveFigures:
    counts = count_by_status(campaign.id)

    none = StatusCount(0, 0)

    def total(statuses: tuple[str, ...] | list[str]) -> int:
        return sum(counts.get(s, none).messages for s in statuses)

    def segments(statuses: tuple[str, ...] | list[str]) -> int:
        return sum(counts.get(s, none).segments for s in statuses)

    now = time.time()
    sent, sent_segments = total(SENT_STATUSES), segments(SENT_STATUSES)
    running = campaign.status == CampaignStatus.RUNNING
    rate, segments_rate, measured = _rates(campaign, now, sent, sent_segments) if running else (None, None, False)
    waiting_segments = segments(WAITING_STATUSES)
    return LiveFigures(
        status=campaign.status,
        total=total(list(counts)),
        waiting=total(WAITING_STATUSES),
        sent=sent,
        delivered=total([S.DELIVERED]),
        failed=total(FAILURE_STATUSES),
        unknown=total([S.UNKNOWN]),
        suppressed=total([S.SUPPRESSED]),
        cancelled=total([S.CANCELLED]),
        segments=segments(list(counts)),
        sent_segments=sent_segments,
        waiting_segments=waiting_segments,
        rate_per_s=rate,
        segments_per_s=segments_rate,
        eta_s=eta_s(campaign, waiting_segments, segments_rate if measured else None) if running else None,
        elapsed_s=elapsed_s(campaign),
        computed_at=now,
        by_status={s: n for s, (n, _) in counts.items()},
    )


def _rates(campaign: Campaign, now: float, sent: int, segments: int) -> tuple[float | None, float | None, bool]:
    """Messages and segments per second over the last ``RATE_WINDOW_S``, from the samples
    earlier counts left in the cache (and the start: nothing was sent before it), and
    whether they span the whole window (a rate over the first second or two is no pace)."""
    key = f"live-samples:{campaign.id}"
    samples = [s for s in (cache.get(key) or []) if now - s[0] <= SAMPLES_KEEP_S]
    if campaign.started_at is not None:
        started = campaign.started_at.timestamp()
        if now - started <= SAMPLES_KEEP_S:
            samples.insert(0, (started, 0, 0))
    samples.append((now, sent, segments))
    cache.set(key, samples[-40:], int(SAMPLES_KEEP_S) + 5)
    older = [s for s in samples if now - s[0] >= RATE_WINDOW_S - 0.5]
    base = older[-1] if older else samples[0]
    span = now - base[0]
    if span < 1.0:
        return None, None, False
    rates = round(max(0, sent - base[1]) / span, 1), round(max(0, segments - base[2]) / span, 1)
    return *rates, span >= RATE_WINDOW_S - 0.5


def planned_pace(campaign: Campaign) -> float:
    """Segments (MMS: messages) per second the campaign is given: its max-min fair share of
    the account's capacity with the account's other running campaigns, at most its cap."""
    others = (
        Campaign.objects.filter(
            account_id=campaign.account_id, channel=campaign.channel, status=CampaignStatus.RUNNING, is_test=False
        )
        .exclude(id=campaign.id)
        .values_list("send_rate", flat=True)
    )
    demands: dict[int, float | None] = {i: float(r) if r else None for i, r in enumerate(others)}
    demands[-1] = float(campaign.send_rate) if campaign.send_rate else None
    return fair_shares(capacity_per_s(campaign.account, campaign.channel), demands)[-1]


def sending_window_s(campaign: Campaign) -> float:
    """Seconds a day the campaign's quiet hours leave for sending (a day without them)."""
    start, end = campaign.quiet_hours_start, campaign.quiet_hours_end
    if start is None or end is None or start == end:
        return DAY_S
    begin = start.hour * 3600 + start.minute * 60 + start.second
    return (end.hour * 3600 + end.minute * 60 + end.second - begin) % DAY_S


def eta_s(campaign: Campaign, waiting_segments: int, measured_per_s: float | None) -> float | None:
    """Seconds until the last message is handed to the provider (None: nothing can send)."""
    if waiting_segments <= 0:
        return 0.0
    pace = planned_pace(campaign)
    if measured_per_s and measured_per_s < pace:
        pace = measured_per_s
    if pace <= 0:
        return None
    seconds = waiting_segments / pace
    window = sending_window_s(campaign)
    if window < DAY_S and seconds > window:
        days = math.ceil(seconds / window) - 1
        seconds = days * DAY_S + (seconds - days * window)
    return round(seconds, 1)


def elapsed_s(campaign: Campaign) -> float | None:
    """Since the start; a finished campaign's from start to completion."""
    if campaign.started_at is None:
        return None
    end = campaign.completed_at if campaign.status in SETTLED and campaign.completed_at else timezone.now()
    return round(max(0.0, (end - campaign.started_at).total_seconds()), 1)
