"""/metrics for the web process: campaigns, the receipt inbox and every bind's heartbeat.

Read from the database at scrape time (a few aggregate queries), so any web replica can
answer. Bind workers also serve their own live counters (``SMPP_METRICS_PORT``).
"""
from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from campaigns.models import Campaign, CampaignStatus, Message, Receipt, ReceiptState


class PlatformCollector:
    def collect(self):
        messages = GaugeMetricFamily(
            "campaign_messages", "messages of running and paused campaigns by status", labels=["campaign", "status"]
        )
        active = Campaign.objects.filter(status__in=[CampaignStatus.RUNNING, CampaignStatus.PAUSED])
        rows = Message.objects.filter(campaign__in=active).values_list("campaign_id", "status").annotate(Count("id"))
        for campaign_id, status, count in rows:
            messages.add_metric([str(campaign_id), status], float(count))
        yield messages
        inbox = GaugeMetricFamily("receipt_inbox", "receipts in the inbox by state", labels=["state"])
        for state in (ReceiptState.PENDING, ReceiptState.ORPHANED):
            inbox.add_metric([state], float(Receipt.objects.filter(state=state).count()))
        yield inbox
        oldest = Receipt.objects.filter(state=ReceiptState.PENDING).aggregate(m=Min("received_at"))["m"]
        lag = GaugeMetricFamily("receipt_apply_lag_seconds", "age of the oldest pending receipt")
        lag.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield lag
        yield from _bind_metrics()


def _bind_metrics():
    from smpp_transport.models import BindStatus

    up = GaugeMetricFamily("smpp_bind_healthy", "1 when a bind reports itself bound and fresh", labels=["bind"])
    for status in BindStatus.objects.all():
        up.add_metric([status.name], 1.0 if status.health == "bound" else 0.0)
    yield up


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; with METRICS_TOKEN set, only for ``Authorization: Bearer <token>``."""
    token = getattr(settings, "METRICS_TOKEN", "")
    if token and not constant_time_compare(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return HttpResponse("metrics need the bearer token\n", status=401, content_type="text/plain")
    registry = CollectorRegistry()
    registry.register(PlatformCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
