"""The delivery report, its aggregates, the timeline chart and the streamed CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.models import CampaignStatus
from campaigns.selectors_failures import failure_reasons
from campaigns.selectors_live import live_figures
from campaigns.selectors_reports import campaign_report
from campaigns.selectors_timeline import MAX_BARS, bucket_for, campaign_timeline
from tests.factories import CampaignFactory, MessageFactory, MessagePartFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Ids repeat across test runs: an earlier run's cached figures must not be read."""
    from django.core.cache import cache

    cache.clear()


T0 = datetime(2030, 5, 1, 10, 0, tzinfo=UTC)


def _campaign_with_outcomes():
    campaign = CampaignFactory(status=CampaignStatus.COMPLETED, started_at=T0, completed_at=T0 + timedelta(minutes=5))
    rows = [
        ("delivered", 0, 1, None, ""),
        ("delivered", 0, 2, None, ""),
        ("delivered", 1, 1, None, ""),
        ("undelivered", 1, 2, 1, "receipt err 001"),
        ("undelivered", 2, 3, 1, "receipt err 001"),
        ("failed", None, 0, 11, "ESME_RINVDSTADR"),
        ("suppressed", None, None, None, ""),
    ]
    for i, (status, submit_min, done_min, code, error) in enumerate(rows):
        message = MessageFactory(
            campaign=campaign,
            status=status,
            phone=f"+4479111{i:05d}",
            submitted_at=T0 + timedelta(minutes=submit_min, seconds=5) if submit_min is not None else None,
            done_at=T0 + timedelta(minutes=done_min, seconds=30) if done_min is not None else None,
        )
        if status != "suppressed":
            MessagePartFactory(message=message, status=status, error_code=code, error=error)
    return campaign


def test_report_aggregates() -> None:
    campaign = _campaign_with_outcomes()
    report = campaign_report(campaign)
    assert report.by_status["delivered"] == 3 and report.by_status["undelivered"] == 2
    assert (report.progress.total, report.progress.sent, report.progress.delivered) == (7, 5, 3)
    assert report.delivery_rate == 60.0
    live = live_figures(campaign)
    assert (live.total, live.sent, live.delivered, live.failed, live.delivery_rate) == (7, 5, 3, 3, 60.0)
    reasons = {(g.words, g.code): g.count for g in failure_reasons(campaign)}
    assert reasons == {
        (
            "undelivered: the network could not deliver it: unknown subscriber (the number does not exist)",
            "stat UNDELIV, err 001",
        ): 2,
        ("not sent: ESME_RINVDSTADR: invalid destination address", "ESME_RINVDSTADR (0x0B)"): 1,
    }
    timeline = campaign_timeline(campaign)
    assert timeline.start == T0 and timeline.bucket_s == 5  # five minutes in 5-second bars
    assert (sum(timeline.submitted), sum(timeline.delivered), sum(timeline.failed)) == (5, 3, 3)
    assert timeline.submitted[1] == 2 and timeline.delivered[18] == 2  # 10:00:05, 10:01:30


def test_report_page_as_viewer(viewer_client) -> None:
    campaign = _campaign_with_outcomes()
    response = viewer_client.get(reverse("admin:campaigns_campaign_report", args=[campaign.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "60.0 %" in page
    failures_url = reverse("admin:campaigns_campaign_report_failures", args=[campaign.pk])
    assert f'data-fragment-url="{failures_url}"' in page
    table = viewer_client.get(failures_url).content.decode()
    assert "not sent: ESME_RINVDSTADR: invalid destination address" in table and "ESME_RINVDSTADR (0x0B)" in table
    assert "undelivered: the network could not deliver it: unknown subscriber" in table
    assert "stat UNDELIV, err 001" in table
    chart_url = reverse("admin:campaigns_campaign_timeline", args=[campaign.pk])
    assert f'src="{chart_url}"' in page
    chart = viewer_client.get(chart_url)
    assert chart["Content-Type"].startswith("image/svg+xml")
    svg = chart.content.decode()
    assert svg.startswith("<svg") and 'class="cd-bar-submits"' in svg and "cd-line-deliveries" in svg
    assert "2 submitted, 0 delivered, 0 failed" in svg and "<style>" in svg and "cd-line-failures" in svg
    assert "Export all messages (CSV)" in page
    assert "/action/" not in page


def test_report_is_cached_briefly_and_recounted_on_demand(marketer_client) -> None:
    campaign = _campaign_with_outcomes()
    url = reverse("admin:campaigns_campaign_report", args=[campaign.pk])
    marketer_client.get(url)
    MessageFactory(campaign=campaign, status="delivered", phone="+447911199999")
    assert live_figures(campaign).total == 7  # cached (a completed campaign: for a minute)
    assert marketer_client.get(url + "?fresh=1").context["live"].total == 8


def test_csv_export_streams_every_message_with_status_and_error(viewer_client) -> None:
    campaign = _campaign_with_outcomes()
    response = viewer_client.get(reverse("admin:campaigns_campaign_export", args=[campaign.pk]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 7
    assert list(rows[0]) == [
        "phone",
        "status",
        "reason",
        "reason_code",
        "segments",
        "submitted_at",
        "done_at",
        "error_code",
        "error",
    ]
    failed = next(r for r in rows if r["status"] == "failed")
    assert (failed["error_code"], failed["error"]) == ("11", "ESME_RINVDSTADR")
    assert failed["reason"] == "not sent: ESME_RINVDSTADR: invalid destination address"
    undelivered = next(r for r in rows if r["status"] == "undelivered")
    assert undelivered["reason"].startswith("undelivered: the network could not deliver it: unknown subscriber")
    assert undelivered["reason_code"] == "stat UNDELIV, err 001"
    assert next(r for r in rows if r["status"] == "suppressed")["reason"] == "not sent: opted out or invalid number"
    assert rows[0]["submitted_at"].startswith("2030-05-01T10:00:05")


def test_report_of_a_campaign_without_messages(marketer_client) -> None:
    campaign = CampaignFactory()
    page = marketer_client.get(reverse("admin:campaigns_campaign_report", args=[campaign.pk])).content.decode()
    assert "No messages yet" in page and "Nothing submitted yet." in page


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.floats(1, 40 * 86400))
def test_the_bucket_fits_the_campaigns_length(span: float) -> None:
    bucket = bucket_for(span)
    assert span / bucket <= MAX_BARS or bucket == 86400
    assert bucket == 1 or span / bucket > MAX_BARS / 3  # never needlessly coarse


def test_export_cells_cannot_become_spreadsheet_formulas() -> None:
    from campaigns.csv_safe import safe_cell as cell

    assert cell("+447911123456") == "+447911123456"
    assert cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert cell("@SUM(A1)") == "'@SUM(A1)"
    assert cell("-12") == "-12" and cell("-2+3") == "'-2+3" and cell("+cmd|x") == "'+cmd|x"
    assert cell(None) == "" and cell(5) == 5


def test_error_code_meanings() -> None:
    from campaigns.admin.error_codes import describe

    assert describe("smpp", 0x58) == ("ESME_RTHROTTLED (0x58)", "Throttled: sent faster than the provider allows")
    assert describe("smpp", 0x400)[1] == "Vendor-specific command status"
    assert describe("receipt", 27) == ("err 027", "Absent subscriber (phone off or out of coverage)")
    assert describe("receipt", 999)[1].startswith("Provider-specific")
    assert describe("mm4", 550, "550 5.1.1 no such user") == ("SMTP 550", "550 5.1.1 no such user (permanent)")
    assert describe("smpp", None, "gave up after 3 tries") == ("—", "gave up after 3 tries")
