"""Cursor pagination of messages (stable while rows are added) and bounded page sizes."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIClient

from campaigns.api.pagination import MessageCursorPagination, PagePagination
from tests.factories import CampaignFactory, MessageFactory, RecipientListFactory

pytestmark = pytest.mark.django_db


def _cursor(position: str) -> str:
    return base64.b64encode(f"p={position}".encode()).decode()


def test_cursor_pages_visit_every_message_once_newest_first(viewer: APIClient) -> None:
    campaign = CampaignFactory()
    messages = [MessageFactory(campaign=campaign, phone=f"+4479111{n:05d}") for n in range(25)]
    seen: list[int] = []
    response = viewer.get("/api/v1/messages/", {"campaign": campaign.id, "page_size": 10})
    pages = 0
    while True:
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        seen += [m["id"] for m in body["results"]]
        pages += 1
        if pages == 1:
            # Newer rows arriving while a client pages do not shift what it has still to read.
            MessageFactory(campaign=campaign, phone="+447911199999")
        if not body["next"]:
            break
        response = viewer.get(body["next"])
    assert pages == 3
    assert seen == sorted((m.id for m in messages), reverse=True)


def test_previous_link_goes_back(viewer: APIClient) -> None:
    campaign = CampaignFactory()
    for n in range(5):
        MessageFactory(campaign=campaign, phone=f"+4479111{n:05d}")
    first = viewer.get("/api/v1/messages/", {"page_size": 2}).json()
    second = viewer.get(first["next"]).json()
    assert first["previous"] is None
    assert viewer.get(second["previous"]).json()["results"] == first["results"]


def test_filters_survive_in_the_next_link(viewer: APIClient) -> None:
    wanted, other = CampaignFactory(), CampaignFactory()
    for n in range(3):
        MessageFactory(campaign=wanted, phone=f"+4479111{n:05d}")
        MessageFactory(campaign=other, phone=f"+4479111{n:05d}")
    first = viewer.get("/api/v1/messages/", {"campaign": wanted.id, "page_size": 2}).json()
    second = viewer.get(first["next"]).json()
    assert {m["campaign"] for m in first["results"] + second["results"]} == {wanted.id}
    assert len(first["results"] + second["results"]) == 3


def test_page_size_is_capped(viewer: APIClient, marketer: APIClient) -> None:
    campaign = CampaignFactory()
    MessageFactory.create_batch(3, campaign=campaign)
    assert len(viewer.get("/api/v1/messages/", {"page_size": 10**12}).json()["results"]) == 3
    assert MessageCursorPagination.max_page_size == 1000 and PagePagination.max_page_size == 500
    RecipientListFactory.create_batch(3)
    response = marketer.get("/api/v1/lists/", {"page_size": 2})
    assert response.json()["count"] == 3 and len(response.json()["results"]) == 2
    assert response.json()["next"].endswith("page=2&page_size=2")


@pytest.mark.parametrize("position", ["abc", "-1", "9" * 30, "1.5", "١٢"])
def test_a_forged_cursor_is_a_404_not_a_crash(viewer: APIClient, position: str) -> None:
    MessageFactory()
    response = viewer.get("/api/v1/messages/", {"cursor": _cursor(position)})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_a_well_formed_cursor_position_is_honoured(viewer: APIClient) -> None:
    campaign = CampaignFactory()
    ids = [MessageFactory(campaign=campaign, phone=f"+4479111{n:05d}").id for n in range(3)]
    response = viewer.get("/api/v1/messages/", {"cursor": _cursor(str(ids[2]))})
    assert [m["id"] for m in response.json()["results"]] == [ids[1], ids[0]]
