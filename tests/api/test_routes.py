"""/api/v1/routes/ with entries, campaigns and single sends that target a route."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from campaigns.models import Campaign, Message, Route
from campaigns.services.dispatch import tick
from tests.factories import AccountFactory, RecipientListFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/routes/"


def _route_body(a, b, **overrides) -> dict:
    return {
        "name": "UK split",
        "strategy": "weighted",
        "entries": [
            {"prefix": "+44", "account": a.id, "weight": 70},
            {"prefix": "+44", "account": b.id, "weight": 30, "position": 1},
            {"prefix": "", "account": b.id, "price": "0.012000"},
        ],
    } | overrides


def test_operators_create_change_and_delete_routes_with_entries(operator: APIClient) -> None:
    a, b = AccountFactory(), AccountFactory()
    created = operator.post(URL, _route_body(a, b), format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert [(e["prefix"], e["account"], e["weight"]) for e in data["entries"]] == [
        ("", b.id, 1),
        ("+44", a.id, 70),
        ("+44", b.id, 30),
    ]
    changed = operator.patch(
        f"{URL}{data['id']}/", {"strategy": "least_cost", "entries": [{"account": a.id}]}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    route = Route.objects.get(id=data["id"])
    assert route.strategy == "least_cost" and list(route.entries.values_list("prefix", "account_id")) == [("", a.id)]
    assert operator.get(URL).json()["results"][0]["name"] == "UK split"
    assert operator.delete(f"{URL}{data['id']}/").status_code == 204


def test_bad_routes_are_refused_with_the_field(operator: APIClient) -> None:
    a = AccountFactory()
    bad_prefix = operator.post(URL, {"name": "x", "entries": [{"prefix": "44", "account": a.id}]}, format="json")
    assert bad_prefix.status_code == 400 and "entries" in str(bad_prefix.json())
    empty = operator.post(URL, {"name": "y", "entries": []}, format="json")
    assert empty.status_code == 400
    twice = operator.post(URL, {"name": "z", "entries": [{"account": a.id}, {"account": a.id}]}, format="json")
    assert twice.status_code == 400


def test_marketers_read_routes_but_cannot_write_them(marketer: APIClient) -> None:
    a, b = AccountFactory(), AccountFactory()
    assert marketer.get(URL).status_code == 200
    assert marketer.post(URL, _route_body(a, b), format="json").status_code == 403


def test_a_campaign_takes_a_route_or_an_account_not_both(operator: APIClient, marketer: APIClient) -> None:
    a, b = AccountFactory(), AccountFactory()
    route_id = operator.post(URL, _route_body(a, b), format="json").json()["id"]
    lst = RecipientListFactory()
    body = {"name": "Spring", "body": "Hi", "recipient_lists": [lst.id]}
    both = marketer.post("/api/v1/campaigns/", body | {"account": a.id, "route": route_id}, format="json")
    assert both.status_code == 400
    neither = marketer.post("/api/v1/campaigns/", body, format="json")
    assert neither.status_code == 400
    routed = marketer.post("/api/v1/campaigns/", body | {"route": route_id}, format="json")
    assert routed.status_code == 201, routed.json()
    campaign = Campaign.objects.get(id=routed.json()["id"])
    assert campaign.route_id == route_id and campaign.account_id == b.id  # the default prefix's account is home
    assert routed.json()["route"] == route_id
    # Protected: a route in use cannot be deleted.
    in_use = operator.delete(f"{URL}{route_id}/")
    assert in_use.status_code == 400


def test_a_single_send_through_a_route_gets_the_prefix_account(operator: APIClient, marketer: APIClient) -> None:
    a, b = AccountFactory(), AccountFactory()
    route_id = operator.post(URL, _route_body(a, b), format="json").json()["id"]
    sent = marketer.post("/api/v1/send/", {"route": route_id, "phone": "+33612345678", "body": "Code 1"}, format="json")
    assert sent.status_code == 201, sent.json()
    tick(enqueue=lambda batch: None)
    assert Message.objects.get(id=sent.json()["id"]).account_id == b.id  # +33: the default entry
    both = marketer.post(
        "/api/v1/send/", {"route": route_id, "account": a.id, "phone": "+33612345678", "body": "x"}, format="json"
    )
    assert both.status_code == 400
