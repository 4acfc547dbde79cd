"""A tracked campaign's clicks, for the report's Clicks fragment and the stats API.

``unique`` counts the messages with at least one click by something other than a bot
(chat apps' link previewers and mail scanners fetch links that nobody opened), and the
click-through rate is unique / delivered. ``total`` counts every request, bots included
(``bots`` says how many of them). Every figure is an aggregate over the
``(campaign, clicked_at)`` index; per link over ``(link, message)``.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import Trunc

from campaigns.models import Campaign, Click, TrackedLink, UserAgentClass
from campaigns.statuses import MessageStatus

MAX_LINKS = 50  # a personalised URL makes one link per recipient: the top ones only
HUMAN = ~Q(agent=UserAgentClass.BOT)


def _bucket(span: timedelta) -> str:
    """Minutes for a couple of hours of clicks, hours for a few days, then days."""
    if span <= timedelta(hours=2):
        return "minute"
    if span <= timedelta(days=3):
        return "hour"
    return "day"


def click_stats(campaign: Campaign, *, delivered: int | None = None) -> dict:
    """Totals, rate, clicks over time and per link (most clicked first)."""
    clicks = Click.objects.filter(campaign_id=campaign.id)
    totals = clicks.aggregate(
        total=Count("id"),
        unique=Count("message_id", distinct=True, filter=HUMAN),
        bots=Count("id", filter=Q(agent=UserAgentClass.BOT)),
        first=Min("clicked_at"),
        last=Max("clicked_at"),
    )
    if delivered is None:
        delivered = campaign.messages.filter(status=MessageStatus.DELIVERED).count()
    by_agent = dict(clicks.values_list("agent").annotate(n=Count("id")).order_by())
    over_time = []
    if totals["total"]:
        unit = _bucket(totals["last"] - totals["first"])
        rows = (
            clicks.annotate(at=Trunc("clicked_at", unit))
            .values("at")
            .annotate(clicks=Count("id"), unique=Count("message_id", distinct=True, filter=HUMAN))
            .order_by("at")
        )
        over_time = [{"at": r["at"], "clicks": r["clicks"], "unique": r["unique"]} for r in rows]
    per_link = (
        clicks.values("link_id")
        .annotate(clicks=Count("id"), unique=Count("message_id", distinct=True, filter=HUMAN))
        .order_by("-clicks", "link_id")[:MAX_LINKS]
    )
    counted = {r["link_id"]: r for r in per_link}
    links = TrackedLink.objects.filter(campaign_id=campaign.id)
    shown = links.filter(id__in=list(counted)) if len(counted) >= MAX_LINKS else links.order_by("id")[:MAX_LINKS]
    urls = dict(shown.values_list("id", "url"))
    per_link_rows = [
        {"url": urls.get(lid, ""), "clicks": r["clicks"], "unique": r["unique"]} for lid, r in counted.items()
    ] + [{"url": url, "clicks": 0, "unique": 0} for lid, url in urls.items() if lid not in counted]
    return {
        "total": totals["total"],
        "unique": totals["unique"],
        "bots": totals["bots"],
        "click_through_rate": round(totals["unique"] / delivered, 4) if delivered else None,
        "by_agent": {a: by_agent.get(a, 0) for a in UserAgentClass.values},
        "over_time": over_time,
        "per_link": per_link_rows[:MAX_LINKS],
    }
