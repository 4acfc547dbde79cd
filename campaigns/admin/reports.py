"""The delivery report page and the CSV export of a campaign's messages.

Both read through campaigns.selectors_reports: aggregates for the page (a few hundred
grouped rows, whatever the campaign's size) and a server-side cursor for the export, which
streams so a million rows never sit in memory.
"""

from __future__ import annotations

from urllib.parse import urlencode

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.text import slugify

from campaigns.admin.charts import STYLE_CSP_SOURCE, timeline_svg
from campaigns.admin.csv_export import stream_csv
from campaigns.admin.error_codes import describe
from campaigns.admin.report_cost import report_cost
from campaigns.models import Campaign
from campaigns.selectors_reports import EXPORT_COLUMNS, campaign_report, campaign_timeline, message_export_rows
from campaigns.statuses import MessageStatus

STATUS_ORDER = [
    MessageStatus.DELIVERED, MessageStatus.ACCEPTED, MessageStatus.UNKNOWN, MessageStatus.UNDELIVERED,
    MessageStatus.EXPIRED, MessageStatus.REJECTED, MessageStatus.FAILED, MessageStatus.SUPPRESSED,
    MessageStatus.CANCELLED, MessageStatus.PENDING, MessageStatus.QUEUED,
]  # fmt: skip


def _messages_url(campaign: Campaign, status: str) -> str:
    query = urlencode({"campaign__id__exact": campaign.pk, "status__exact": status})
    return f"{reverse('admin:campaigns_message_changelist')}?{query}"


def report_view(request: HttpRequest, campaign: Campaign, context: dict) -> TemplateResponse:
    fresh = request.GET.get("fresh") == "1"
    report = campaign_report(campaign, fresh=fresh)
    total = report.progress.total
    labels = dict(MessageStatus.choices)
    statuses = [
        {"status": s, "label": labels[s], "count": report.by_status.get(s, 0),
         "percent": round(100.0 * report.by_status.get(s, 0) / total, 1) if total else 0.0,
         "url": _messages_url(campaign, s)}
        for s in STATUS_ORDER
        if report.by_status.get(s, 0)
    ]  # fmt: skip
    failures = []
    mms = campaign.channel == "mms"
    for group in report.failures:
        source = "mm4" if mms and group.kind == "smpp" else group.kind
        name, meaning = describe(source, group.code, group.sample)
        kind = {"receipt": "Delivery receipt", "mm4": "MM4 submit"}.get(source, "SMPP submit")
        failures.append({"kind": kind, "name": name, "meaning": meaning, "status": labels.get(group.status),
                         "count": group.count})  # fmt: skip
    context.update(
        title=f"Delivery report: {campaign.name}",
        campaign=campaign,
        report=report,
        statuses=statuses,
        failures=failures,
        chart_url=reverse("admin:campaigns_campaign_timeline", args=[campaign.pk]) + ("?fresh=1" if fresh else ""),
        export_url=reverse("admin:campaigns_campaign_export", args=[campaign.pk]),
        change_url=reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
    )
    context["cost"] = report_cost(request, campaign)  # the cost line (report_cost.html)
    return TemplateResponse(request, "admin/campaigns/campaign/report.html", context)


@csp_update({"style-src": [STYLE_CSP_SOURCE]})
def timeline_view(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    """The timeline chart as a standalone SVG document (the report page shows it as an image,
    so the page does not wait for the one aggregate that reads every message)."""
    timeline = campaign_timeline(campaign, fresh=request.GET.get("fresh") == "1")
    response = HttpResponse(timeline_svg(timeline, standalone=True), content_type="image/svg+xml; charset=utf-8")
    patch_cache_control(response, private=True, max_age=5)
    return response


def export_view(campaign: Campaign) -> StreamingHttpResponse:
    name = f"{slugify(campaign.name) or 'campaign'}-{campaign.pk}-messages-{timezone.now():%Y%m%d-%H%M}.csv"
    return stream_csv(EXPORT_COLUMNS, message_export_rows(campaign), name)
