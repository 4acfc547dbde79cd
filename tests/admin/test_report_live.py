"""The report while a campaign runs (live JSON, refreshed in place), reasons in the message
admin, the failures export, the breakdown by country and operator, buckets and time zones."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import CampaignStatus
from campaigns.selectors_timeline import campaign_timeline
from tests.factories import AccountFactory, CampaignFactory, MessageFactory, MessagePartFactory

pytestmark = pytest.mark.django_db


def _running():  # type: ignore[no-untyped-def]
    now = timezone.now()
    campaign = CampaignFactory(
        account=AccountFactory(binds=1, rate_per_bind=10),
        status=CampaignStatus.RUNNING,
        started_at=now - timedelta(seconds=20),
        timezone="Europe/Paris",
    )
    rows = [
        ("+447911100001", "delivered", None, ""),
        ("+447911100002", "expired", 1, "receipt err 001"),
        ("+33612345678", "failed", 0x0B, "ESME_RINVDSTADR"),
        ("+33612345679", "pending", None, ""),
    ]
    for i, (phone, status, code, error) in enumerate(rows):
        message = MessageFactory(
            campaign=campaign,
            phone=phone,
            status=status,
            submitted_at=now - timedelta(seconds=15 - i) if status != "pending" else None,
            done_at=now - timedelta(seconds=10 - i) if status != "pending" else None,
        )
        MessagePartFactory(message=message, status=status, error_code=code, error=error)
    return campaign


def test_live_json_has_the_funnel_rate_eta_and_elapsed(viewer_client) -> None:
    campaign = _running()
    data = viewer_client.get(reverse("admin:campaigns_campaign_report_live", args=[campaign.pk])).json()
    assert (data["waiting"], data["sent"], data["delivered"], data["failed"]) == (1, 2, 1, 2)
    assert data["live"] is True and data["rate_per_s"] is not None
    # 2 sent in the 20 s since the start: 0.1/s measured, below the account's 10/s, so the ETA
    # of the one segment left follows the measured pace
    assert data["eta_s"] == pytest.approx(10, rel=0.2) and data["eta"].endswith(" s")
    assert data["elapsed"].endswith(" s") and data["elapsed_s"] >= 20
    assert data["computed_local"].endswith(("CET", "CEST")) and data["computed_utc"].endswith("UTC")


def test_report_page_while_running_polls_and_shows_times_in_the_campaigns_zone(viewer_client) -> None:
    campaign = _running()
    page = viewer_client.get(reverse("admin:campaigns_campaign_report", args=[campaign.pk])).content.decode()
    assert 'data-live="1"' in page and "report.js" in page
    assert "Time left (ETA)" in page and "msg/s" in page
    local = campaign.started_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert f"{local:%Y-%m-%d %H:%M:%S}" in page  # in Paris, with UTC in the title
    assert f'title="{campaign.started_at:%Y-%m-%d %H:%M:%S} UTC"' in page


def test_a_twenty_second_campaign_gets_one_second_bars(viewer_client) -> None:
    campaign = _running()
    timeline = campaign_timeline(campaign)
    assert timeline.bucket_s == 1 and len(timeline.submitted) <= 25
    svg = viewer_client.get(reverse("admin:campaigns_campaign_timeline", args=[campaign.pk])).content.decode()
    assert 'data-bucket-s="1"' in svg and "per second" in svg and "Europe/Paris" in svg


def test_failures_link_to_their_messages_which_show_the_reason(viewer_client, operator_client) -> None:
    campaign = _running()
    page = viewer_client.get(reverse("admin:campaigns_campaign_report_failures", args=[campaign.pk])).content.decode()
    assert "expired: the phone was unreachable for the validity period" in page
    changelist = reverse("admin:campaigns_message_changelist")
    link = f"{changelist}?campaign__id__exact={campaign.pk}&amp;status__exact=expired"
    assert link + "&amp;parts__error_code=1" in page
    listing = operator_client.get(link.replace("&amp;", "&") + "&parts__error_code=1")
    assert listing.status_code == 200
    text = listing.content.decode()
    assert "+447911100002" in text and "expired: the phone was unreachable" in text and "+33612345678" not in text


def test_failures_export_one_reason_or_all(viewer_client) -> None:
    campaign = _running()
    url = reverse("admin:campaigns_campaign_export_failures", args=[campaign.pk])

    def rows(query: str) -> list[dict]:
        response = viewer_client.get(url + query)
        assert response.status_code == 200
        return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))

    every = rows("")
    assert {r["phone"] for r in every} == {"+447911100002", "+33612345678"}
    one = rows("?key=failed:11")
    assert [r["reason"] for r in one] == ["not sent: ESME_RINVDSTADR: invalid destination address"]
    assert viewer_client.get(url + "?key=delivered:1").status_code == 400
    assert viewer_client.get(url + "?key=failed:x").status_code == 400


def test_breakdown_by_country_and_operator(viewer_client) -> None:
    campaign = _running()
    html = viewer_client.get(reverse("admin:campaigns_campaign_report_breakdown", args=[campaign.pk])).content.decode()
    assert 'data-country="FR"' in html and "France" in html
    assert "ported" in html and "Operator" in html


def test_messages_outside_the_recorded_span_still_make_few_bars() -> None:
    now = timezone.now()
    campaign = CampaignFactory(status=CampaignStatus.COMPLETED, started_at=now, completed_at=now)
    for minute in (0, 30, 59):
        MessageFactory(
            campaign=campaign,
            status="delivered",
            submitted_at=now + timedelta(minutes=minute),
            done_at=now + timedelta(minutes=minute, seconds=4),
        )
    timeline = campaign_timeline(campaign)
    assert timeline.bucket_s == 30 and len(timeline.submitted) <= 121
    assert sum(timeline.submitted) == 3 and sum(timeline.delivered) == 3
