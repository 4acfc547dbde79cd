"""Quiet hours: send only within a local-time window of each recipient.

The window is read in the recipient's own zone (from the number); where a number spans
several zones with different clocks, the campaign's zone decides. A message outside the
window gets ``not_before`` = the next opening, which takes it out of the claim query until
then instead of being re-examined every tick.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from campaigns.models import Campaign, Message
from campaigns.services.phones import phone_timezone


@lru_cache(maxsize=65536)
def zone_for(phone: str, fallback: str) -> str:
    """Time zone of a number (cached: phonenumbers' lookup is the slow part of a claim)."""
    return phone_timezone(phone, fallback=fallback)


def next_allowed(now: datetime, zone: str, start: time, end: time) -> datetime | None:
    """None when ``now`` is inside the window in ``zone``; otherwise the next opening (UTC).

    A window whose end is before its start spans midnight (e.g. 20:00–08:00).
    """
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if inside or start == end:
        return None
    opening = local.replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
    if opening <= local:
        opening = (local + timedelta(days=1)).replace(hour=start.hour, minute=start.minute, second=0, microsecond=0)
    # Re-localise so a DST change between now and the opening gives the right UTC instant.
    opening = datetime.combine(opening.date(), opening.time(), tzinfo=tz)
    return opening.astimezone(ZoneInfo("UTC"))


def defer_quiet(campaign: Campaign, rows: list[Any], now: datetime) -> list[Any]:
    """Keep messages inside their recipient's window; give the others their opening time.
    ``rows`` are ``values_list(..., named=True)`` rows with ``id``, ``phone``, ``recipient_tz``."""
    allowed, deferred = [], defaultdict(list)
    for row in rows:
        zone = row.recipient_tz or zone_for(row.phone, campaign.timezone)
        opening = next_allowed(now, zone, campaign.quiet_hours_start, campaign.quiet_hours_end)
        if opening is None:
            allowed.append(row)
        else:
            deferred[opening].append(row.id)
    for opening, ids in deferred.items():
        Message.objects.filter(id__in=ids).update(not_before=opening, updated_at=now)
    return allowed
