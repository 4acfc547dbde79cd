"""Template helpers for the campaign admin: the progress bars and status badges.

One function draws the bars for the changelist, the detail page and the report, so they
look the same everywhere; the JavaScript poll updates the same elements in place.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from campaigns.selectors_reports import Progress

register = template.Library()


@register.simple_tag
def progress_bars(progress: Progress, campaign_id: int | None = None, live: bool = False) -> SafeString:
    """Two bars: sent / to send and delivered / to send, with the numbers in words."""
    return format_html(
        '<div class="cd-progress" data-campaign="{}" data-live="{}">'
        '<div class="cd-row"><span class="cd-label">Sent</span>'
        '<span class="cd-track" role="progressbar" aria-label="Sent" aria-valuemin="0" aria-valuemax="100" '
        'aria-valuenow="{}"><span class="cd-fill cd-fill-sent" style="width: {}%"></span></span>'
        '<span class="cd-figure" data-figure="sent">{} / {} ({} %)</span></div>'
        '<div class="cd-row"><span class="cd-label">Delivered</span>'
        '<span class="cd-track" role="progressbar" aria-label="Delivered" aria-valuemin="0" aria-valuemax="100" '
        'aria-valuenow="{}"><span class="cd-fill cd-fill-delivered" style="width: {}%"></span></span>'
        '<span class="cd-figure" data-figure="delivered">{} / {} ({} %)</span></div></div>',
        campaign_id or "",
        "1" if live else "0",
        progress.sent_pct,
        progress.sent_pct,
        f"{progress.sent:,}",
        f"{progress.sendable:,}",
        progress.sent_pct,
        progress.delivered_pct,
        progress.delivered_pct,
        f"{progress.delivered:,}",
        f"{progress.sendable:,}",
        progress.delivered_pct,
    )


@register.simple_tag
def status_badge(status: str, label: str) -> SafeString:
    return format_html('<span class="cd-badge cd-badge-{}">{}</span>', status, label)


@register.filter
def percent_of(count: int, total: int) -> str:
    return f"{100.0 * count / total:.1f}" if total else "0.0"


@register.filter
def thousands(value: int | None) -> str:
    """1234567 → 1,234,567 (django.contrib.humanize is not installed)."""
    return f"{value:,}" if isinstance(value, int) else ("" if value is None else str(value))
