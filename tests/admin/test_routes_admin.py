"""Routes in the admin: the route page with inline entries, the builder's route choice, and
the report's table of traffic and delivery per account."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from campaigns.models import Campaign, CampaignStatus, Route
from tests.factories import AccountFactory, CampaignFactory, MessageFactory, RecipientListFactory

pytestmark = pytest.mark.django_db


def _inline(prefix: str, entries: list[dict]) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(entries)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for k, e in enumerate(entries):
        data.update({f"{prefix}-{k}-{name}": value for name, value in e.items()})
    return data


def test_operators_make_a_route_with_its_entries_inline(operator_client) -> None:
    a, b = AccountFactory(), AccountFactory()
    page = operator_client.get(reverse("admin:campaigns_route_add"))
    assert page.status_code == 200 and b"longest prefix" in page.content
    data = {"name": "UK split", "strategy": "weighted", "active": "on"} | _inline(
        "entries",
        [
            {"prefix": "+44", "account": str(a.id), "weight": "70", "position": "0"},
            {"prefix": "+44", "account": str(b.id), "weight": "30", "position": "1"},
        ],
    )
    response = operator_client.post(reverse("admin:campaigns_route_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    route = Route.objects.get(name="UK split")
    assert sorted(route.entries.values_list("account_id", "weight")) == sorted([(a.id, 70), (b.id, 30)])
    bad = {"name": "Bad", "strategy": "weighted"} | _inline(
        "entries", [{"prefix": "44", "account": str(a.id), "weight": "1", "position": "0"}]
    )
    assert b"E.164" in operator_client.post(reverse("admin:campaigns_route_add"), bad).content


def test_the_builder_takes_a_route_and_names_its_home_account(marketer_client) -> None:
    a, b = AccountFactory(), AccountFactory()
    route = Route.objects.create(name="Split")
    route.entries.create(prefix="+44", account=a, weight=1)
    route.entries.create(prefix="", account=b, weight=1)
    lst = RecipientListFactory()
    data = {
        "name": "Routed",
        "channel": "sms",
        "route": str(route.id),
        "body": "Hi",
        "recipient_lists": [str(lst.id)],
        "timezone": "UTC",
    } | _inline("media", [])
    response = marketer_client.post(reverse("admin:campaigns_campaign_add"), data)
    assert response.status_code == 302, re.findall(r'class="errorlist[^>]*>(.*?)</ul>', response.content.decode())
    campaign = Campaign.objects.get(name="Routed")
    assert campaign.route_id == route.id and campaign.account_id == b.id
    neither = marketer_client.post(reverse("admin:campaigns_campaign_add"), data | {"route": "", "name": "None"})
    assert neither.status_code == 200 and b"Choose an account, or a route" in neither.content


def test_the_report_shows_traffic_and_delivery_per_account(viewer_client) -> None:
    a, b = AccountFactory(name="Alpha"), AccountFactory(name="Beta")
    route = Route.objects.create(name="Split")
    route.entries.create(prefix="", account=a, weight=1)
    route.entries.create(prefix="", account=b, weight=1)
    campaign = CampaignFactory(account=a, route=route, status=CampaignStatus.COMPLETED)
    for i, (account, status) in enumerate([(a, "delivered"), (a, "delivered"), (a, "undelivered"), (b, "delivered")]):
        MessageFactory(
            campaign=campaign,
            phone=f"+4479110000{i:02d}",
            account=account,
            status=status,
            route_note="moved off account 1" if account == b else "",
        )
    html = viewer_client.get(reverse("admin:campaigns_campaign_report_breakdown", args=[campaign.pk])).content.decode()
    rows = {m[0]: m[1] for m in re.findall(r'<tr data-account="(\d+)">(.*?)</tr>', html)}
    cells = {k: re.findall(r"<td[^>]*>(.*?)</td>", v) for k, v in rows.items()}
    assert cells[str(a.id)][:5] == ["Alpha", "3", "2", "1", "66.7 %"]
    assert cells[str(b.id)][0] == "Beta" and cells[str(b.id)][4] == "100.0 %" and cells[str(b.id)][6] == "1"
