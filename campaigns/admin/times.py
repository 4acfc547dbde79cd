"""One date format everywhere in the report: ``YYYY-MM-DD HH:MM:SS`` in the campaign's time
zone with the zone's abbreviation, and the same moment in UTC on hover (the ``title``).

A marketer plans in the campaign's zone (its schedule and quiet hours are set in it); the
operator reading logs thinks in UTC. Both see the same instant, never two formats.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

from django.utils.html import format_html
from django.utils.safestring import SafeString

FORMAT = "%Y-%m-%d %H:%M:%S"


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The campaign's zone; UTC when it is blank or not a zone (never a 500 over a label)."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_text(moment: datetime, tz: str | None) -> str:
    local = moment.astimezone(zone(tz))
    return f"{local:{FORMAT}} {local.tzname()}"


def utc_text(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):{FORMAT}} UTC"


def time_html(moment: datetime | None, tz: str | None) -> SafeString:
    """``<time>`` in the campaign's zone, UTC in its title; an en dash when there is none."""
    if moment is None:
        return format_html("{}", "–")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.astimezone(UTC).isoformat(),
        utc_text(moment),
        local_text(moment, tz),
    )


def duration_text(seconds: float | None) -> str:
    """``1 h 02 min``, ``3 min 05 s``, ``42 s``: elapsed times and ETAs, to the second."""
    if seconds is None:
        return "–"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h {minutes:02d} min"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
