"""The report's timeline: submitted, delivered and failed per bucket, the bucket chosen from
the campaign's length (a 20-second campaign gets one-second bars, a day-long one hours).

One GROUP BY (submit bucket, outcome bucket, outcome) over the campaign's messages:
``date_bin`` on PostgreSQL, epoch arithmetic on SQLite. The outcome bucket follows its
submit bucket closely, so the groups are a few per bucket, a few hundred in all, whatever
the campaign's size. It reads every message by nature, so it is cached like the report (a
minute once settled, five seconds while running) and drawn on its own request.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Message
from campaigns.statuses import FAILURE_STATUSES, S

MAX_BARS = 120
BUCKETS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


@dataclass
class Timeline:
    """Counts per bucket of ``bucket_s`` seconds from ``start`` (UTC)."""

    start: datetime
    bucket_s: int
    submitted: list[int]
    delivered: list[int]
    failed: list[int]

    def stamp(self, i: int) -> datetime:
        return self.start + timedelta(seconds=i * self.bucket_s)


def bucket_for(span_s: float) -> int:
    """The smallest bucket that draws ``span_s`` in at most ``MAX_BARS`` bars."""
    return next((b for b in BUCKETS_S if span_s / b <= MAX_BARS), BUCKETS_S[-1])


def unit(bucket_s: int) -> str:
    """A bucket in words: "second", "5 seconds", "minute", "2 hours"."""
    for size, name in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if bucket_s % size == 0:
            n = bucket_s // size
            return name if n == 1 else f"{n} {name}s"
    return f"{bucket_s} seconds"  # pragma: no cover - every bucket is whole seconds


def _span(campaign: Campaign) -> tuple[datetime, datetime] | None:
    """When the campaign ran: its start to its completion (now while it runs); from the
    messages' own times when it has no start (a campaign made by a script or a test)."""
    start = campaign.started_at
    end = campaign.completed_at if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED) else None
    if start is None:
        bounds = Message.objects.filter(campaign_id=campaign.id).aggregate(
            a=Min("submitted_at"), b=Max("submitted_at"), c=Max("done_at")
        )
        if bounds["a"] is None:
            return None
        start, end = bounds["a"], max(d for d in (bounds["b"], bounds["c"]) if d is not None)
    return start, end or timezone.now()


def _counts(campaign_id: int, start: datetime, bucket_s: int) -> list[tuple[int | None, int | None, str, int]]:
    """(submit bucket, outcome bucket, outcome, messages); buckets are indexes from ``start``.

    PostgreSQL bins with ``date_bin`` (timestamps, in C): ``EXTRACT(EPOCH …)`` is numeric
    since PostgreSQL 14, and numeric arithmetic on a million rows was several times slower.
    """
    table = connection.ops.quote_name(Message._meta.db_table)
    fail = ", ".join(["%s"] * len(FAILURE_STATUSES))
    origin = start.timestamp()
    if connection.vendor == "postgresql":

        def binned(column: str) -> str:
            return f"date_bin(%s::interval, {column}, %s::timestamptz)"

        bin_params: list = [f"{bucket_s} seconds", start]
    else:

        def binned(column: str) -> str:
            return f"CAST((CAST(strftime('%%s', {column}) AS REAL) - {origin:.6f}) / {bucket_s} AS INTEGER)"

        bin_params = []
    outcome = f"CASE WHEN status = %s THEN 'd' WHEN status IN ({fail}) THEN 'f' ELSE '' END"
    sql = (
        f"SELECT {binned('submitted_at')}, CASE WHEN {outcome} <> '' THEN {binned('done_at')} END, {outcome}, "
        f"COUNT(*) FROM {table} WHERE campaign_id = %s GROUP BY 1, 2, 3"
    )
    case = [S.DELIVERED, *FAILURE_STATUSES]
    params = [*bin_params, *case, *bin_params, *case, campaign_id]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()

    def index(value: datetime | int | None) -> int | None:
        if value is None or isinstance(value, int):
            return value
        return round((value.timestamp() - origin) / bucket_s)

    return [(index(a), index(b), outcome, n) for a, b, outcome, n in rows]


def build_timeline(campaign: Campaign) -> Timeline | None:
    span = _span(campaign)
    if span is None:
        return None
    start, end = span
    bucket_s = bucket_for(max(1.0, (end - start).total_seconds()))
    origin = start.timestamp() // bucket_s * bucket_s
    series: dict[str, dict[int, int]] = {name: defaultdict(int) for name in ("submitted", "delivered", "failed")}
    for submitted, done, outcome, n in _counts(campaign.id, datetime.fromtimestamp(origin, tz=UTC), bucket_s):
        if submitted is not None:
            series["submitted"][int(submitted)] += n
        if done is not None and outcome:
            series["delivered" if outcome == "d" else "failed"][int(done)] += n
    keys = [k for s in series.values() for k in s]
    if not keys:
        return None
    first, last = min(0, *keys), max(keys)
    # Messages outside the campaign's recorded span (receipts long after completion, times
    # set by a script): merge into a coarser bucket, so the chart still has few bars.
    wider = bucket_for((last - first + 1) * bucket_s)
    if wider > bucket_s:
        series, origin, bucket_s = _rebucket(series, origin, bucket_s, wider), origin // wider * wider, wider
        keys = [k for s in series.values() for k in s]
        first, last = min(0, *keys), max(keys)
    size = last - first + 1

    def dense(name: str) -> list[int]:
        values = [0] * size
        for k, n in series[name].items():
            values[k - first] = n
        return values

    return Timeline(
        datetime.fromtimestamp(origin + first * bucket_s, tz=UTC),
        bucket_s,
        dense("submitted"),
        dense("delivered"),
        dense("failed"),
    )


def _rebucket(series: dict[str, dict[int, int]], origin: float, bucket_s: int, wider: int) -> dict[str, dict[int, int]]:
    """The same counts in buckets of ``wider`` seconds (aligned to multiples of it)."""
    base = origin // wider
    merged: dict[str, dict[int, int]] = {}
    for name, counts in series.items():
        merged[name] = defaultdict(int)
        for k, n in counts.items():
            merged[name][int((origin + k * bucket_s) // wider - base)] += n
    return merged


def campaign_timeline(campaign: Campaign, *, fresh: bool = False) -> Timeline | None:
    """The campaign's timeline, cached briefly (see the module)."""
    settled = campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)
    key = f"campaign-timeline-s:{campaign.id}:{campaign.status}"
    value = None if fresh else cache.get(key)
    if value is None:
        value = build_timeline(campaign)
        cache.set(key, value, 60 if settled else 5)
    return value
