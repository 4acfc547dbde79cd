"""Template helpers for the campaign admin: the progress bars and status badges.

One function draws the bars for the changelist, the detail page and the report, so they
look the same everywhere; the JavaScript poll updates the same elements in place. A bar's
fill is an SVG rectangle whose ``width`` attribute is the percentage: an attribute, not an
inline style, so the bars draw without JavaScript under the Content-Security-Policy.
"""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from campaigns.selectors_reports import Progress

register = template.Library()


def _bar(name: str, label: str, pct: float, count: int, sendable: int) -> SafeString:
    return format_html(
        '<div class="cd-row"><span class="cd-label">{}</span>'
        '<span class="cd-track" role="progressbar" aria-label="{}" aria-valuemin="0" aria-valuemax="100" '
        'aria-valuenow="{}"><svg class="cd-bar" aria-hidden="true">'
        '<rect class="cd-fill cd-fill-{}" width="{}%" height="100%"/></svg></span>'
        '<span class="cd-figure" data-figure="{}">{} / {} ({} %)</span></div>',
        label,
        label,
        pct,
        name,
        pct,
        name,
        f"{count:,}",
        f"{sendable:,}",
        pct,
    )


@register.simple_tag
def progress_bars(progress: Progress, campaign_id: int | None = None, live: bool = False) -> SafeString:
    """Two bars: sent / to send and delivered / to send, with the numbers in words."""
    return format_html(
        '<div class="cd-progress" data-campaign="{}" data-live="{}">{}{}</div>',
        campaign_id or "",
        "1" if live else "0",
        _bar("sent", "Sent", progress.sent_pct, progress.sent, progress.sendable),
        _bar("delivered", "Delivered", progress.delivered_pct, progress.delivered, progress.sendable),
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
