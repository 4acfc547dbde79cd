"""The delivery report page, its live figures, its breakdowns and the CSV exports.

Everything reads through selectors: the live figures (``selectors_live``: one index-only
count, cached two seconds while running), the reasons (``selectors_failures``), the timeline
and the country/operator breakdown (each on its own request, since each reads every row).
The page refreshes its figures in place from ``live_view`` while the campaign runs; the
Failures table, the breakdown and the cost line (a GROUP BY over every message when the
account has country prices) arrive as fragments on their own requests.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.text import slugify

from campaigns.admin.charts import STYLE_CSP_SOURCE, timeline_svg
from campaigns.admin.csv_export import stream_csv
from campaigns.admin.report_cost import report_cost
from campaigns.admin.times import duration_text, local_text, utc_text
from campaigns.models import Campaign, CampaignStatus
from campaigns.selectors_breakdown import PORTING_NOTE, campaign_breakdown
from campaigns.selectors_clicks import click_stats
from campaigns.selectors_cost import Cost, cost_by_country, price_table
from campaigns.selectors_failures import REASON_STATUSES, ReasonGroup
from campaigns.selectors_live import LiveFigures, live_figures
from campaigns.selectors_reports import EXPORT_COLUMNS, message_export_rows, suppressed_by_reason
from campaigns.selectors_stats import cached_failure_reasons
from campaigns.selectors_timeline import campaign_timeline
from campaigns.statuses import MessageStatus

STATUS_ORDER = [
    MessageStatus.DELIVERED,
    MessageStatus.ACCEPTED,
    MessageStatus.UNKNOWN,
    MessageStatus.UNDELIVERED,
    MessageStatus.EXPIRED,
    MessageStatus.REJECTED,
    MessageStatus.FAILED,
    MessageStatus.SUPPRESSED,
    MessageStatus.CANCELLED,
    MessageStatus.PENDING,
    MessageStatus.QUEUED,
]
LIVE = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED)


def _messages_url(campaign: Campaign, status: str, code: int | None | str = "") -> str:
    query = {"campaign__id__exact": campaign.pk, "status__exact": status}
    if code is None:
        query["parts__error_code__isnull"] = "True"
    elif code != "":
        query["parts__error_code"] = code
    return f"{reverse('admin:campaigns_message_changelist')}?{urlencode(query)}"


def _key(status: str, code: int | None) -> str:
    return f"{status}:{'none' if code is None else code}"


def reason_rows(campaign: Campaign, groups: list[ReasonGroup]) -> list[dict]:
    """The Failures table: each reason with links to its messages and to their export."""
    export = reverse("admin:campaigns_campaign_export_failures", args=[campaign.pk])
    return [
        {
            "words": g.words,
            "code": g.code,
            "count": g.count,
            "links": [(status, _messages_url(campaign, status, code)) for status, code in g.keys],
            "export_url": f"{export}?{urlencode([('key', _key(s, c)) for s, c in g.keys])}",
        }
        for g in groups
    ]


def live_payload(campaign: Campaign, live: LiveFigures) -> dict:
    """The live figures with the words the page shows (the same text the page first renders)."""
    return live.as_dict() | {
        "id": campaign.pk,
        "status_display": campaign.get_status_display(),
        "live": campaign.status in LIVE,
        "sent_pct": live.percent(live.sent),
        "delivered_pct": live.percent(live.delivered),
        "eta": duration_text(live.eta_s) if live.eta_s is not None else "–",
        "elapsed": duration_text(live.elapsed_s),
        "computed_local": local_text(timezone.now(), campaign.timezone),
        "computed_utc": utc_text(timezone.now()),
    }


def report_view(request: HttpRequest, campaign: Campaign, context: dict) -> TemplateResponse:
    fresh = request.GET.get("fresh") == "1"
    query = "?fresh=1" if fresh else ""
    live = live_figures(campaign, fresh=fresh)
    total = live.total
    labels = dict(MessageStatus.choices)
    statuses = [
        {
            "status": s,
            "label": labels[s],
            "count": live.by_status.get(s, 0),
            "percent": round(100.0 * live.by_status.get(s, 0) / total, 1) if total else 0.0,
            "url": _messages_url(campaign, s),
        }
        for s in STATUS_ORDER
        if live.by_status.get(s, 0)
    ]
    context.update(
        title=f"Delivery report: {campaign.name}",
        campaign=campaign,
        live=live,
        figures=live_payload(campaign, live),
        statuses=statuses,
        is_live=campaign.status in LIVE,
        live_url=reverse("admin:campaigns_campaign_report_live", args=[campaign.pk]),
        breakdown_url=reverse("admin:campaigns_campaign_report_breakdown", args=[campaign.pk]) + query,
        failures_url=reverse("admin:campaigns_campaign_report_failures", args=[campaign.pk]) + query,
        cost_url=reverse("admin:campaigns_campaign_report_cost", args=[campaign.pk]) + query,
        clicks_url=reverse("admin:campaigns_campaign_report_clicks", args=[campaign.pk]),
        chart_url=reverse("admin:campaigns_campaign_timeline", args=[campaign.pk]) + ("?fresh=1" if fresh else ""),
        export_url=reverse("admin:campaigns_campaign_export", args=[campaign.pk]),
        export_failures_url=reverse("admin:campaigns_campaign_export_failures", args=[campaign.pk]),
        change_url=reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
    )
    context["suppressed_reasons"] = suppressed_by_reason(campaign) if live.suppressed else []
    return TemplateResponse(request, "admin/campaigns/campaign/report.html", context)


def live_view(request: HttpRequest, campaign: Campaign) -> JsonResponse:
    """What the report page's poll reads every two seconds: cheap (see selectors_live)."""
    response = JsonResponse(live_payload(campaign, live_figures(campaign)))
    patch_cache_control(response, private=True, no_store=True)
    return response


def failures_view(request: HttpRequest, campaign: Campaign) -> TemplateResponse:
    """The Failures table, as a fragment the report page loads on its own: it joins the
    failed messages' parts, the one slow read left once the counts come from the rollup."""
    groups = cached_failure_reasons(campaign, fresh=request.GET.get("fresh") == "1")
    return TemplateResponse(
        request, "admin/campaigns/campaign/report_failures.html", {"reasons": reason_rows(campaign, groups)}
    )


def cost_view(request: HttpRequest, campaign: Campaign) -> TemplateResponse:
    """The cost line, as a fragment the report page loads on its own: with country prices it
    groups every message by number prefix (0.4–0.9 s on a million), which the page itself
    must not wait for."""
    cost = report_cost(request, campaign, fresh=request.GET.get("fresh") == "1")
    return TemplateResponse(request, "admin/campaigns/campaign/report_cost.html", {"cost": cost})


def clicks_view(request: HttpRequest, campaign: Campaign) -> TemplateResponse:
    """The Clicks module (tracked short links), as a fragment: totals, rate, over time, per link."""
    clicks = click_stats(campaign, delivered=live_figures(campaign).delivered)
    rate = clicks["click_through_rate"]
    clicks["ctr_percent"] = None if rate is None else round(100 * rate, 1)
    return TemplateResponse(request, "admin/campaigns/campaign/report_clicks.html", {"clicks": clicks})


def breakdown_view(request: HttpRequest, campaign: Campaign) -> TemplateResponse:
    """The country and operator tables, as a fragment the report page loads on its own."""
    fresh = request.GET.get("fresh") == "1"
    breakdown = campaign_breakdown(campaign, fresh=fresh)
    costs = cost_by_country(campaign, fresh=fresh)
    if costs:
        currency = price_table(campaign.account_id).currency
        breakdown = {
            **breakdown,
            "countries": [
                replace(row, cost=str(Cost(costs[row.key], currency)) if row.key in costs else "")
                for row in breakdown["countries"]
            ],
        }
    return TemplateResponse(
        request,
        "admin/campaigns/campaign/report_breakdown.html",
        {"breakdown": breakdown, "porting_note": PORTING_NOTE, "campaign_routed": campaign.route_id is not None},
    )


@csp_update({"style-src": [STYLE_CSP_SOURCE]})
def timeline_view(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    """The timeline chart as a standalone SVG document (the report page shows it as an image,
    so the page does not wait for the one aggregate that reads every message)."""
    timeline = campaign_timeline(campaign, fresh=request.GET.get("fresh") == "1")
    svg = timeline_svg(timeline, standalone=True, tz=campaign.timezone)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    patch_cache_control(response, private=True, max_age=5)
    return response


def _filename(campaign: Campaign, what: str) -> str:
    return f"{slugify(campaign.name) or 'campaign'}-{campaign.pk}-{what}-{timezone.now():%Y%m%d-%H%M}.csv"


def export_view(campaign: Campaign) -> StreamingHttpResponse:
    return stream_csv(EXPORT_COLUMNS, message_export_rows(campaign), _filename(campaign, "messages"))


def export_failures_view(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    """The messages that did not arrive (``?key=status:code`` for one reason's), with reasons."""
    keys: list[tuple[str, int | None]] = []
    for raw in request.GET.getlist("key")[:50]:
        status, _, code = raw.partition(":")
        if status not in REASON_STATUSES or not (code == "none" or code.lstrip("-").isdigit()) or len(code) > 11:
            return HttpResponseBadRequest(f"Bad key {raw[:40]!r}: use status:code, e.g. undelivered:1 or failed:none.")
        keys.append((status, None if code == "none" else int(code)))
    rows = message_export_rows(campaign, failed_only=True, keys=keys or None)
    return stream_csv(EXPORT_COLUMNS, rows, _filename(campaign, "failures"))


def report_urls(model_admin, url) -> list:  # type: ignore[no-untyped-def]
    """The report's extra endpoints, for ``CampaignAdmin.get_urls`` (permissions as the page)."""

    def on(view):  # type: ignore[no-untyped-def]
        return lambda request, object_id: view(request, model_admin._campaign(request, object_id))

    return [
        url("<path:object_id>/report/live/", on(live_view), "report_live"),
        url("<path:object_id>/report/breakdown/", on(breakdown_view), "report_breakdown"),
        url("<path:object_id>/report/failures/", on(failures_view), "report_failures"),
        url("<path:object_id>/report/cost/", on(cost_view), "report_cost"),
        url("<path:object_id>/report/clicks/", on(clicks_view), "report_clicks"),
        url("<path:object_id>/export/failures/", on(export_failures_view), "export_failures"),
    ]
