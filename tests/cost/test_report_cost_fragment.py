"""The report's cost line is a fragment on its own request (as the Failures table and the
breakdown are): the page answers without counting segments, the fragment has the figures,
and who may fetch it is who may fetch the other fragments."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import CampaignStatus, Message, MessagePart, SegmentPrice
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _campaign(**prices: str):
    account = AccountFactory()
    for country, price in prices.items():
        SegmentPrice.objects.create(
            account=account, country="" if country == "default" else country, price=Decimal(price), currency="EUR"
        )
    campaign = CampaignFactory(account=account, status=CampaignStatus.RUNNING)
    rows = [("+447400000001", S.DELIVERED, 2), ("+4915112000002", S.DELIVERED, 1), ("+447400000003", S.QUEUED, 1)]
    for phone, status, segments in rows:
        message = Message.objects.create(campaign=campaign, phone=phone, status=status, segments=segments)
        if status == S.DELIVERED:
            MessagePart.objects.bulk_create(
                MessagePart(message=message, account=account, index=i + 1, status=status) for i in range(segments)
            )
    return campaign


def _url(name: str, campaign) -> str:
    return reverse(f"admin:campaigns_campaign_{name}", args=[campaign.pk])


def test_the_page_has_the_placeholder_and_counts_no_segments(viewer_client) -> None:
    campaign = _campaign(default="0.04", GB="0.035")
    with CaptureQueriesContext(connection) as queries:
        page = viewer_client.get(_url("report", campaign)).content.decode()
    cost_url = _url("report_cost", campaign)
    assert f'<div class="module cd-module cd-cost" id="cd-cost" data-fragment-url="{cost_url}">' in page
    assert f'data-fragment-body="1"><p class="cd-quiet"><a href="{cost_url}">Show the cost</a>' in page
    assert "spent-cost" not in page and "EUR" not in page
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "campaigns_segmentprice" not in sql and "LEFT(" not in sql.upper()  # neither prices nor the grouping
    recount = viewer_client.get(_url("report", campaign) + "?fresh=1").content.decode()
    assert f'data-fragment-url="{cost_url}?fresh=1"' in recount


def test_the_fragment_has_the_cost_in_one_pass_and_recounts_on_demand(viewer_client) -> None:
    campaign = _campaign(default="0.04", GB="0.035")
    with CaptureQueriesContext(connection) as queries:
        line = viewer_client.get(_url("report_cost", campaign)).content.decode()
    # spent: 2 GB segments × 0.035 + 1 DE × 0.04; estimated adds the queued GB one
    assert 'data-figure="spent-cost">0.1100 EUR<' in line and 'data-figure="estimated-cost">0.1450 EUR<' in line
    assert "<html" not in line and 'id="cd-cost"' not in line  # a fragment, for the page's box
    grouped = [q for q in queries.captured_queries if "LEFT(" in q["sql"].upper()]
    assert len(grouped) == 2  # the messages once for both figures, the part-failed ones' parts once
    Message.objects.create(campaign=campaign, phone="+447400000004", status=S.DELIVERED, segments=1)
    assert "0.1100 EUR" in viewer_client.get(_url("report_cost", campaign)).content.decode()  # cached 5 s
    assert "0.1450 EUR" in viewer_client.get(_url("report_cost", campaign) + "?fresh=1").content.decode()


def test_one_price_for_every_country_reads_the_status_rollup(viewer_client) -> None:
    campaign = _campaign(default="0.04")
    with CaptureQueriesContext(connection) as queries:
        line = viewer_client.get(_url("report_cost", campaign)).content.decode()
    assert 'data-figure="spent-cost">0.1200 EUR<' in line and 'data-figure="estimated-cost">0.1600 EUR<' in line
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "campaigns_messagestatusdelta" in sql and "LEFT(" not in sql.upper()


@pytest.mark.parametrize("who", ["anonymous", "staff_without_role", "viewer"])
def test_the_fragment_is_guarded_as_the_other_fragments(who: str, viewer_client) -> None:
    campaign = _campaign(default="0.04")
    if who == "viewer":
        client = viewer_client
    else:
        client = Client()
        if who == "staff_without_role":
            client.force_login(User.objects.create_user("nobody", password="pw-for-tests", is_staff=True))
    names = ("report_cost", "report_breakdown", "report_failures")
    answers = {name: client.get(_url(name, campaign)) for name in names}
    codes = {name: r.status_code for name, r in answers.items()}
    assert len(set(codes.values())) == 1, codes
    expected = {"anonymous": 302, "staff_without_role": 403, "viewer": 200}[who]
    assert codes["report_cost"] == expected
    if who == "anonymous":
        assert "/login/" in answers["report_cost"]["Location"]
    if who == "viewer":
        assert client.get(reverse("admin:campaigns_campaign_report_cost", args=[999999])).status_code == 404
