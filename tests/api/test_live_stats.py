"""GET /campaigns/{id}/stats/ with the live part: rate, ETA, failure reasons, countries; and
every undelivered message's ``reason`` in words in /messages/."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import CampaignStatus as C
from campaigns.models import SegmentPrice
from campaigns.selectors_live import live_figures
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, MessageFactory, MessagePartFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Ids repeat across test runs; the live samples and figures of an earlier run must not count."""
    cache.clear()


def _campaign_with_outcomes(status: str = C.RUNNING):  # type: ignore[no-untyped-def]
    account = AccountFactory(binds=2, rate_per_bind=2)
    campaign = CampaignFactory(account=account, status=status, started_at=timezone.now() - timedelta(seconds=5))
    rows = [
        ("+447911100001", S.DELIVERED, None, ""),
        ("+447911100002", S.EXPIRED, 1, "receipt err 001"),
        ("+447911100003", S.UNDELIVERED, 6, "receipt err 006"),
        ("+4915112345678", S.FAILED, 0x0B, "ESME_RINVDSTADR"),
        ("+4915112345679", S.PENDING, None, ""),
        ("+4915112345670", S.PENDING, None, ""),
    ]
    for phone, status, code, error in rows:
        message = MessageFactory(campaign=campaign, phone=phone, status=status, segments=2)
        MessagePartFactory(message=message, status=status, error_code=code, error=error)
        MessagePartFactory(message=message, index=2, status=S.DELIVERED if status != S.PENDING else S.PENDING)
    # Started just now, whatever the set-up took: the ten-second window is not full yet.
    campaign.started_at = timezone.now() - timedelta(seconds=3)
    campaign.save(update_fields=["started_at"])
    return campaign


def test_stats_has_rate_eta_reasons_and_countries(viewer: APIClient) -> None:
    campaign = _campaign_with_outcomes()
    stats = viewer.get(f"/api/v1/campaigns/{campaign.id}/stats/").json()
    assert stats["total"] == 6 and stats["failed"] == 3
    # started a few seconds ago with nothing sent before it: 3 sent (6 segments) since
    assert stats["rate_per_s"] == pytest.approx(3 / stats["elapsed_s"], abs=0.1)
    assert stats["segments_per_s"] == pytest.approx(2 * stats["rate_per_s"], abs=0.1)
    assert stats["eta_s"] == pytest.approx(1.0)  # 4 segments left at 2 binds × 2/s
    assert stats["elapsed_s"] >= 3
    reasons = {r["reason"]: r for r in stats["failure_reasons"]}
    assert reasons["expired: the phone was unreachable for the validity period"]["code"] == "stat EXPIRED, err 001"
    assert reasons["not sent: ESME_RINVDSTADR: invalid destination address"]["count"] == 1
    assert any(r.startswith("undelivered: the network could not deliver it: absent subscriber") for r in reasons)
    countries = {c["country"]: c for c in stats["by_country"]}
    assert countries["DE"] == {"country": "DE", "messages": 3, "delivered": 0, "failed": 1, "segments": 6, "cost": None}
    assert sum(c["messages"] for c in stats["by_country"]) == 6
    assert stats["estimated_cost"] is None and stats["spent_cost"] is None  # the account has no price


def test_each_country_row_carries_its_spent_cost_when_the_account_has_prices(viewer: APIClient) -> None:
    campaign = _campaign_with_outcomes()
    SegmentPrice.objects.create(account=campaign.account, country="DE", price=Decimal("0.05"), currency="EUR")
    stats = viewer.get(f"/api/v1/campaigns/{campaign.id}/stats/").json()
    countries = {c["country"]: c for c in stats["by_country"]}
    # DE: one accepted segment (the second part of the message whose first part failed)
    assert countries["DE"]["cost"] == {"amount": "0.0500", "currency": "EUR"}
    assert stats["spent_cost"] is None  # GB has no price: no total rather than a wrong one
    assert all(c["cost"] is None for c in stats["by_country"] if c["country"] != "DE")


def test_eta_and_rate_are_null_when_not_running(viewer: APIClient) -> None:
    campaign = _campaign_with_outcomes(C.COMPLETED)
    stats = viewer.get(f"/api/v1/campaigns/{campaign.id}/stats/").json()
    assert stats["eta_s"] is None and stats["rate_per_s"] is None and stats["segments_per_s"] is None


def test_eta_follows_the_cap_and_the_other_campaigns() -> None:
    campaign = _campaign_with_outcomes()
    CampaignFactory(account=campaign.account, status=C.RUNNING)  # an uncapped neighbour: 2/s each
    assert live_figures(campaign, fresh=True).eta_s == pytest.approx(2.0)
    campaign.send_rate = 1
    campaign.save()
    assert live_figures(campaign, fresh=True).eta_s == pytest.approx(4.0)


def test_rate_is_over_the_last_ten_seconds() -> None:
    campaign = _campaign_with_outcomes()
    now = timezone.now().timestamp()
    cache.set(f"live-samples:{campaign.id}", [(now - 10, 1, 2), (now - 5, 2, 4)], 60)
    figures = live_figures(campaign, fresh=True)
    assert figures.rate_per_s == pytest.approx(0.2, abs=0.02)  # 3 sent now, 1 ten seconds ago
    assert figures.segments_per_s == pytest.approx(0.4, abs=0.04)


def test_every_undelivered_message_has_a_reason_in_words(viewer: APIClient) -> None:
    campaign = _campaign_with_outcomes()
    results = viewer.get(f"/api/v1/messages/?campaign={campaign.id}&page_size=50").json()["results"]
    by_phone = {m["phone"]: m for m in results}
    assert by_phone["+447911100002"]["reason"] == "expired: the phone was unreachable for the validity period"
    assert by_phone["+447911100002"]["reason_code"] == "stat EXPIRED, err 001"
    assert by_phone["+4915112345678"]["reason"].startswith("not sent: ESME_RINVDSTADR")
    assert by_phone["+447911100001"]["reason"] == "" and by_phone["+4915112345679"]["reason"] == ""
