"""The clicks in the stats API and in the report's Clicks fragment."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import ShortCode
from campaigns.services.links import track_bodies
from campaigns.statuses import MessageStatus as S
from tests.factories import CampaignFactory, MessageFactory
from tests.wsgi_client import wsgi_request

pytestmark = pytest.mark.django_db

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120 Safari/537.36"


def _clicked_campaign():  # type: ignore[no-untyped-def]
    """Four delivered messages with two links each; message 1 clicks link A twice (phone,
    then desktop), message 2 clicks link B once, a previewer fetches message 3's link A."""
    body = "A https://a.example.com/x B https://b.example.com/y"
    campaign = CampaignFactory(body=body, track_links=True, status="running", started_at=timezone.now())
    messages = [
        MessageFactory(campaign=campaign, phone=f"+44791110000{i}", status=S.DELIVERED, body=body) for i in range(4)
    ]
    track_bodies(campaign=campaign, bodies=[(m.id, body) for m in messages], now=timezone.now())

    def code(message, url: str) -> str:  # type: ignore[no-untyped-def]
        return ShortCode.objects.get(message=message, link__url=url).code

    for message, url, agent in [
        (messages[0], "https://a.example.com/x", IPHONE),
        (messages[0], "https://a.example.com/x", WINDOWS),
        (messages[1], "https://b.example.com/y", IPHONE),
        (messages[2], "https://a.example.com/x", "WhatsApp/2.23.20 A"),
    ]:
        assert wsgi_request(f"/r/{code(message, url)}", HTTP_USER_AGENT=agent).status_code == 302
    return campaign


def test_the_stats_api_shows_clicks(api_viewer) -> None:
    campaign = _clicked_campaign()
    clicks = api_viewer.get(f"/api/v1/campaigns/{campaign.id}/stats/").json()["clicks"]
    assert clicks["total"] == 4 and clicks["unique"] == 2 and clicks["bots"] == 1
    assert clicks["click_through_rate"] == 0.5  # 2 messages clicked of 4 delivered
    assert clicks["by_agent"] == {"bot": 1, "mobile": 2, "desktop": 1, "other": 0}
    assert sum(b["clicks"] for b in clicks["over_time"]) == 4
    assert clicks["over_time"][0]["unique"] == 2
    per_link = {row["url"]: (row["clicks"], row["unique"]) for row in clicks["per_link"]}
    assert per_link == {"https://a.example.com/x": (3, 1), "https://b.example.com/y": (1, 1)}


def test_an_untracked_campaign_has_no_click_figures(api_viewer) -> None:
    campaign = CampaignFactory()
    assert api_viewer.get(f"/api/v1/campaigns/{campaign.id}/stats/").json()["clicks"] is None


def test_the_report_shows_the_clicks(admin_viewer) -> None:
    campaign = _clicked_campaign()
    page = admin_viewer.get(reverse("admin:campaigns_campaign_report", args=[campaign.pk])).content.decode()
    fragment_url = reverse("admin:campaigns_campaign_report_clicks", args=[campaign.pk])
    assert f'data-fragment-url="{fragment_url}"' in page
    fragment = admin_viewer.get(fragment_url).content.decode()
    assert '<dd data-clicks="total">4</dd>' in fragment
    assert '<dd data-clicks="unique">2</dd>' in fragment
    assert "50.0 % of delivered" in fragment
    assert "https://a.example.com/x" in fragment and "https://b.example.com/y" in fragment
