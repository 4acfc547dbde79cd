"""``{% campaign_time moment campaign.timezone %}``: see campaigns/admin/times.py."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.safestring import SafeString

from campaigns.admin.times import duration_text, time_html

register = template.Library()


@register.simple_tag
def campaign_time(moment: datetime | None, tz: str | None) -> SafeString:
    return time_html(moment, tz)


@register.filter
def duration(seconds: float | None) -> str:
    return duration_text(seconds)
