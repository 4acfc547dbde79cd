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
from campaigns.selectors_reports import _timeline, campaign_report, campaign_timeline
from tests.factories import CampaignFactory, MessageFactory, MessagePartFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2030, 5, 1, 10, 0, tzinfo=UTC)


def _campaign_with_outcomes():
    campaign = CampaignFactory(status=CampaignStatus.COMPLETED, started_at=T0, completed_at=T0 + timedelta(minutes=5))
    rows = [
        ("delivered", 0, 1, None, ""), ("delivered", 0, 2, None, ""), ("delivered", 1, 1, None, ""),
        ("undelivered", 1, 2, 1, "receipt err 001"), ("undelivered", 2, 3, 1, "receipt err 001"),
        ("failed", None, 0, 11, "ESME_RINVDSTADR"), ("suppressed", None, None, None, ""),
    ]  # fmt: skip
    for i, (status, submit_min, done_min, code, error) in enumerate(rows):
        message = MessageFactory(
            campaign=campaign, status=status, phone=f"+4479111{i:05d}",
            submitted_at=T0 + timedelta(minutes=submit_min, seconds=5) if submit_min is not None else None,
            done_at=T0 + timedelta(minutes=done_min, seconds=30) if done_min is not None else None,
        )  # fmt: skip
        if status != "suppressed":
            MessagePartFactory(message=message, status=status, error_code=code, error=error)
    return campaign


def test_report_aggregates() -> None:
    campaign = _campaign_with_outcomes()
    report = campaign_report(campaign)
    assert report.by_status["delivered"] == 3 and report.by_status["undelivered"] == 2
    assert (report.progress.total, report.progress.sent, report.progress.delivered) == (7, 5, 3)
    assert report.delivery_rate == 60.0
    failures = {(f.kind, f.code, f.status): f.count for f in report.failures}
    assert failures == {("receipt", 1, "undelivered"): 2, ("smpp", 11, "failed"): 1}
    timeline = campaign_timeline(campaign)
    assert timeline.start == T0 and timeline.minutes == 1
    assert timeline.submits == [2, 2, 1] and timeline.deliveries == [0, 2, 1]


def test_report_page_as_viewer(viewer_client) -> None:
    campaign = _campaign_with_outcomes()
    response = viewer_client.get(reverse("admin:campaigns_campaign_report", args=[campaign.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "60.0 %" in page
    assert "ESME_RINVDSTADR (0x0B)" in page and "Invalid destination address" in page
    assert "err 001" in page and "Unknown subscriber" in page
    chart_url = reverse("admin:campaigns_campaign_timeline", args=[campaign.pk])
    assert f'src="{chart_url}"' in page
    chart = viewer_client.get(chart_url)
    assert chart["Content-Type"].startswith("image/svg+xml")
    svg = chart.content.decode()
    assert svg.startswith("<svg") and 'class="cd-bar-submits"' in svg and "cd-line-deliveries" in svg
    assert "2 submitted, 0 delivered" in svg and "<style>" in svg
    assert "Export all messages (CSV)" in page
    assert "/action/" not in page


def test_report_is_cached_briefly_and_recounted_on_demand(marketer_client) -> None:
    campaign = _campaign_with_outcomes()
    url = reverse("admin:campaigns_campaign_report", args=[campaign.pk])
    marketer_client.get(url)
    MessageFactory(campaign=campaign, status="delivered", phone="+447911199999")
    assert campaign_report(campaign).progress.total == 7  # cached
    assert "8" in marketer_client.get(url + "?fresh=1").context["report"].progress.total.__str__()


def test_csv_export_streams_every_message_with_status_and_error(viewer_client) -> None:
    campaign = _campaign_with_outcomes()
    response = viewer_client.get(reverse("admin:campaigns_campaign_export", args=[campaign.pk]))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 7
    assert list(rows[0]) == ["phone", "status", "reason", "segments", "submitted_at", "done_at", "error_code", "error"]
    failed = next(r for r in rows if r["status"] == "failed")
    assert (failed["error_code"], failed["error"]) == ("11", "ESME_RINVDSTADR")
    assert rows[0]["submitted_at"].startswith("2030-05-01T10:00:05")


def test_report_of_a_campaign_without_messages(marketer_client) -> None:
    campaign = CampaignFactory()
    page = marketer_client.get(reverse("admin:campaigns_campaign_report", args=[campaign.pk])).content.decode()
    assert "No messages yet" in page and "Nothing submitted yet." in page


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 50)), min_size=1, max_size=40))
def test_timeline_buckets_keep_every_count(points: list[tuple[int, int]]) -> None:
    from collections import Counter

    submits: Counter = Counter()
    for minute, n in points:
        submits[T0 + timedelta(minutes=minute)] += n
    timeline = _timeline(submits, Counter())
    assert sum(timeline.submits) == sum(n for _, n in points)
    assert len(timeline.submits) <= 361
    assert timeline.submits[0] > 0 and timeline.submits[-1] > 0


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
