"""/metrics for the web process: campaigns, the receipt inbox and what the transports add.

Read from the database at scrape time (a few aggregate queries), so any web replica can
answer. A transport adds its own families with :func:`register_collector` when its app is
ready (``smpp_transport`` adds every bind's heartbeat), so ``config/`` imports no transport.
Bind workers also serve their own live counters (``SMPP_METRICS_PORT``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.db.models import Count, Min
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from campaigns.models import Campaign, CampaignStatus, Message, Receipt, ReceiptState

_extra_collectors: list[Callable[[], Iterable[GaugeMetricFamily]]] = []


def register_collector(collect: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
    """Add metric families to /metrics (idempotent): called by a transport's AppConfig.ready."""
    if collect not in _extra_collectors:
        _extra_collectors.append(collect)


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
        for collect in _extra_collectors:
            yield from collect()


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; with METRICS_TOKEN set, only for ``Authorization: Bearer <token>``."""
    token = settings.METRICS_TOKEN
    if token and not constant_time_compare(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return HttpResponse("metrics need the bearer token\n", status=401, content_type="text/plain")
    registry = CollectorRegistry()
    registry.register(PlatformCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
