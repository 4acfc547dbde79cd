"""Server-side SVG for the delivery report's timeline: no JavaScript library, no CDN.

The chart is plain SVG built from a few hundred numbers (the aggregated buckets), so it
renders offline, prints, and costs nothing in the browser. Every value placed in the markup
is a number or a timestamp we format ourselves; labels still go through ``escape``.
"""

from __future__ import annotations

import base64
import hashlib
import zoneinfo
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from campaigns.selectors_timeline import Timeline, unit

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 36
MIN_BARS = 15  # a few buckets still get narrow bars, with empty ones after them


def _nice_ceiling(value: int) -> int:
    """The axis maximum: 1, 2 or 5 times a power of ten, at or above ``value``."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= value)


def _ticks(top: int) -> list[int]:
    """Gridline values: 0 to ``top`` in whole, evenly spaced steps (top is 1, 2 or 5 × 10ⁿ)."""
    for divisions in (5, 4, 2, 1):
        if top % divisions == 0:
            return list(range(0, top + 1, top // divisions))
    return [0, top]  # pragma: no cover - top is always divisible by 1


# Served as an image, the SVG cannot see the page's stylesheet: it carries its own, with a
# dark variant that follows the viewer's setting like the admin does. The SVG's response
# allows exactly this stylesheet by its hash (STYLE_CSP_SOURCE) under the CSP.
STYLE_CSS = (
    ".cd-grid{stroke:#e3e3e3;stroke-width:1}.cd-axis{fill:#666;font:11px sans-serif}"
    ".cd-legend{fill:#333;font:12px sans-serif}.cd-bar-submits{fill:#5b9bd5;opacity:.8}"
    ".cd-line-deliveries{fill:none;stroke:#3f9c55;stroke-width:2}.cd-dot-deliveries{fill:#3f9c55}"
    ".cd-line-failures{fill:none;stroke:#c0392b;stroke-width:2;stroke-dasharray:4 2}.cd-dot-failures{fill:#c0392b}"
    ".cd-empty{fill:#888;font:14px sans-serif}"
    "@media (prefers-color-scheme:dark){.cd-grid{stroke:#444}.cd-axis{fill:#aaa}.cd-legend{fill:#ddd}}"
)
STYLE = f"<style>{STYLE_CSS}</style>"
STYLE_CSP_SOURCE = "'sha256-" + base64.b64encode(hashlib.sha256(STYLE_CSS.encode()).digest()).decode() + "'"


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _label(stamp: datetime, zone: zoneinfo.ZoneInfo, bucket_s: int, *, full: bool) -> str:
    local = stamp.astimezone(zone)
    clock = f"{local:%H:%M:%S}" if bucket_s < 60 else f"{local:%H:%M}"
    return f"{local:%Y-%m-%d} {clock}" if full else clock


def timeline_svg(timeline: Timeline | None, *, standalone: bool = False, tz: str = "UTC") -> SafeString:
    """Submitted (bars), delivered and failed (lines) per bucket, with axes, legend and
    tooltips; times in ``tz`` (the campaign's zone), each tooltip with the UTC time too."""
    style = STYLE if standalone else ""
    if timeline is None or not timeline.submitted:
        return mark_safe(
            f'<svg class="cd-chart" viewBox="0 0 {WIDTH} 60" xmlns="http://www.w3.org/2000/svg">{style}'
            '<text class="cd-empty" x="12" y="34">Nothing submitted yet.</text></svg>'
        )
    zone = _zone(tz)
    real = len(timeline.submitted)
    pad = [0] * (MIN_BARS - real)
    submitted, delivered, failed = (v + pad for v in (timeline.submitted, timeline.delivered, timeline.failed))
    count = len(submitted)
    top = _nice_ceiling(max(max(submitted), max(delivered), max(failed)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / count

    def y(value: int) -> float:
        return TOP + plot_h - plot_h * value / top

    per = unit(timeline.bucket_s)
    zone_name = escape(str(zone))
    parts = [
        f'<svg class="cd-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'aria-label="Submitted, delivered and failed per {escape(per)}" data-bucket-s="{timeline.bucket_s}" '
        f'data-bars="{real}">',
        f"<title>Submitted, delivered and failed per {escape(per)} ({zone_name})</title>",
        style,
    ]
    for value in _ticks(top):
        level = f"{y(value):.1f}"
        parts.append(f'<line class="cd-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{level}" y2="{level}"/>')
        parts.append(f'<text class="cd-axis" x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:,}</text>')
    for i, n in enumerate(submitted):
        stamp = timeline.stamp(i)
        local = _label(stamp, zone, timeline.bucket_s, full=True)
        utc = _label(stamp, zone_utc, timeline.bucket_s, full=False)
        parts.append(
            f'<rect class="cd-bar-submits" x="{LEFT + i * step:.1f}" y="{y(n):.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{TOP + plot_h - y(n):.1f}"><title>{escape(local)} {zone_name} ({utc} UTC): {n:,} submitted, '
            f"{delivered[i]:,} delivered, {failed[i]:,} failed</title></rect>"
        )
    for name, values in (("deliveries", delivered), ("failures", failed)):
        points = " ".join(f"{LEFT + (i + 0.5) * step:.1f},{y(n):.1f}" for i, n in enumerate(values[:real]))
        parts.append(f'<polyline class="cd-line-{name}" points="{points}"/>')
        parts.extend(
            f'<circle class="cd-dot-{name}" cx="{LEFT + (i + 0.5) * step:.1f}" cy="{y(n):.1f}" r="3"/>'
            for i, n in enumerate(values)
            if n
        )
    for i in sorted({0, count // 2, count - 1}):
        anchor = "start" if i == 0 else "end" if i == count - 1 and count > 1 else "middle"
        x = LEFT + (i + 0.5) * step if anchor == "middle" else LEFT if anchor == "start" else WIDTH - RIGHT
        label = _label(timeline.stamp(i), zone, timeline.bucket_s, full=i == 0)
        parts.append(f'<text class="cd-axis" x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="{anchor}">{label}</text>')
    parts.append(
        f'<rect class="cd-bar-submits" x="{LEFT}" y="8" width="12" height="10"/>'
        f'<text class="cd-legend" x="{LEFT + 18}" y="17">submitted per {escape(per)}</text>'
        f'<line class="cd-line-deliveries" x1="{LEFT + 220}" x2="{LEFT + 236}" y1="13" y2="13"/>'
        f'<text class="cd-legend" x="{LEFT + 242}" y="17">delivered</text>'
        f'<line class="cd-line-failures" x1="{LEFT + 320}" x2="{LEFT + 336}" y1="13" y2="13"/>'
        f'<text class="cd-legend" x="{LEFT + 342}" y="17">failed</text>'
        f'<text class="cd-legend" x="{WIDTH - RIGHT}" y="17" text-anchor="end">times in {zone_name}</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped labels only


zone_utc = zoneinfo.ZoneInfo("UTC")
