"""Tracked short links in a real Chromium: ticking "Track links" in the builder shortens
the preview (and its segments and cost) as it will be sent, and the report loads its
Clicks module with the click made through the redirect."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from campaigns.models import CampaignStatus, Contact, SegmentPrice, ShortCode
from campaigns.roles import sync_roles
from campaigns.services.links import track_bodies
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, MessageFactory, RecipientListFactory
from tests.wsgi_client import wsgi_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

LONG_URL = "https://shop.example.com/spring/" + "p" * 140


def _login(page, url: str) -> None:
    sync_roles()
    user = User.objects.create_user("marketer1", password="Pa55word-long", is_staff=True)
    user.groups.add(Group.objects.get(name="marketer"))
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "Pa55word-long")
    page.click("input[type=submit]")


def test_track_links_shortens_the_preview_and_the_report_shows_clicks(live_server, page, shoot, settings) -> None:
    from playwright.sync_api import expect

    account = AccountFactory(name="Priced")
    SegmentPrice.objects.create(account=account, country="", price=Decimal("0.0400"), currency="EUR")
    lst = RecipientListFactory(name="Customers")
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=f"+4474001{i:05d}") for i in range(25))
    _login(page, live_server.url)
    page.goto(f"{live_server.url}/admin/campaigns/campaign/add/")
    page.fill("#id_name", "Tracked")
    page.select_option("#id_account", label=str(account))
    page.get_by_label("Customers").check()
    page.fill("#id_body", f"Spring sale: {LONG_URL}")
    expect(page.locator("#cd-preview [data-fact='Estimated cost']")).to_have_text("2.00 EUR")  # 2 SMS each
    expect(page.locator(".field-track_links")).to_contain_text(f"{settings.LINK_DOMAIN}/r/")
    page.check("#id_track_links")
    expect(page.locator("#cd-preview .cd-bubble").first).to_have_text(f"Spring sale: {settings.LINK_DOMAIN}/r/xxxxxxxx")
    expect(page.locator("#cd-preview [data-fact='Estimated cost']")).to_have_text("1.00 EUR")  # 1 SMS each
    shoot("20-01-builder-track-links")

    body = f"Spring sale: {LONG_URL}"
    campaign = CampaignFactory(
        name="Clicked", account=account, body=body, track_links=True, status=CampaignStatus.COMPLETED,
        started_at=timezone.now(), completed_at=timezone.now(),
    )  # fmt: skip
    message = MessageFactory(campaign=campaign, phone="+447400200001", status=S.DELIVERED, body=body)
    track_bodies(campaign=campaign, bodies=[(message.id, body)], now=timezone.now())
    code = ShortCode.objects.get(message=message).code
    # The live server serves Django's handler only; the click goes to the WSGI app gunicorn
    # serves (tests/e2e/test_tracked_links.py clicks through gunicorn itself).
    phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
    response = wsgi_request(f"/r/{code}", HTTP_USER_AGENT=phone)
    assert response.status_code == 302 and response["Location"] == LONG_URL
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/report/")
    expect(page.locator("#cd-clicks [data-clicks=total]")).to_have_text("1")
    expect(page.locator("#cd-clicks [data-clicks=ctr]")).to_have_text("100.0 % of delivered")
    expect(page.locator("#cd-click-links")).to_contain_text("https://shop.example.com/spring/")
    shoot("20-02-report-clicks")
