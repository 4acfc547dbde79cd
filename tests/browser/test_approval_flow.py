"""Approval before sending in a real Chromium under the CSP: the approver opens a campaign
waiting for approval from the landing page, sees its audience, cost and texts, approves it
with a comment, and the history shows the step; the marketer then sends it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from campaigns.models import ApprovalState, Campaign, CampaignStatus, SegmentPrice
from campaigns.roles import sync_roles
from campaigns.services import approvals
from tests.factories import CampaignFactory, ContactFactory, RecipientListFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]
PASSWORD = "approve-Pa55word-long"


def _user(name: str, role: str) -> User:
    user = User.objects.create_user(name, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def _login(page, url: str, name: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", name)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(name)


def test_an_approver_approves_in_the_browser_and_the_marketer_sends(live_server, page, shoot, settings) -> None:
    from playwright.sync_api import expect

    settings.APPROVAL_REQUIRED_ABOVE = 2
    sync_roles()
    marketer, _ = _user("mia", "marketer"), _user("ada", "approver")
    recipients = RecipientListFactory(name="Spring list")
    for n, name in enumerate(("Ann", "Bob", "Cy")):
        ContactFactory(recipient_list=recipients, phone=f"+44791110000{n}", first_name=name)
    campaign = CampaignFactory(name="Spring sale", body="Hi {{ first_name }}, 20% off today", created_by=marketer)
    campaign.recipient_lists.add(recipients)
    SegmentPrice.objects.create(account=campaign.account, country="", price=Decimal("0.05"), currency="EUR")
    approvals.request_approval(campaign=campaign, actor=marketer, comment="Checked the link")
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    url = live_server.url

    _login(page, url, "ada")
    page.locator("#cd-landing-approvals a", has_text="Spring sale").click()
    panel = page.locator("#cd-approval")
    expect(panel.locator("#cd-approval-audience")).to_have_text("3")
    expect(panel.locator("#cd-approval-cost")).to_have_text("0.1500 EUR")
    expect(panel.locator(".cd-approval-samples pre").first).to_have_text("Hi Ann, 20% off today")
    shoot("approval-01-approver-panel")
    page.fill("#cd-approve-comment", "Go ahead")
    page.click("[data-action=approve]")
    expect(page.locator(".messagelist")).to_contain_text("Approved")
    expect(page.locator("#cd-history tr[data-kind=approved]")).to_contain_text("Go ahead")
    shoot("approval-02-approved-history")
    assert Campaign.objects.get(pk=campaign.pk).approval_state == ApprovalState.APPROVED

    page.context.clear_cookies()
    _login(page, url, "mia")
    page.goto(f"{url}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.once("dialog", lambda dialog: dialog.accept())  # "Send this campaign to all its recipients now?"
    page.click("[data-action=send_now]")
    expect(page.locator(".messagelist")).to_contain_text("Sending started")
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.RUNNING
    assert seen == [], "\n".join(seen)
