"""Approval before sending on the campaign page (test client, PostgreSQL): the panel an
approver decides from, the buttons, the four-eyes refusal, withdrawal on save, the history."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from campaigns.models import ApprovalState, Campaign, CampaignEvent, CampaignStatus, SegmentPrice
from campaigns.roles import APPROVER, MARKETER, sync_roles
from tests.admin.marketer_forms import add_contacts, builder_form_data, change_url, flash_messages, post_action
from tests.factories import CampaignFactory, RecipientListFactory

pytestmark = pytest.mark.django_db
A, C = ApprovalState, CampaignStatus


def _login(name: str, *roles: str) -> Client:
    sync_roles()
    user = User.objects.create_user(name, password="pw-for-tests", is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=roles))
    client = Client()
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.fixture
def mia() -> Client:
    return _login("mia", MARKETER)


@pytest.fixture
def ada() -> Client:
    return _login("ada", APPROVER)


@pytest.fixture
def campaign(mia: Client) -> Campaign:
    lst = RecipientListFactory()
    add_contacts(lst, [(f"+44791110000{n}", name, {}) for n, name in enumerate(("Ann", "Bob", "Cy"))])
    campaign = CampaignFactory(body="Hi {{ first_name }}, sale today", created_by=mia.user)
    campaign.recipient_lists.add(lst)
    SegmentPrice.objects.create(account=campaign.account, country="", price=Decimal("0.04"), currency="EUR")
    return campaign


def _step(client: Client, campaign: Campaign, decision: str, comment: str = ""):
    url = reverse("admin:campaigns_campaign_approval", args=[campaign.pk, decision])
    return client.post(url, {"comment": comment}, follow=True)


def test_the_approver_sees_preview_cost_and_audience_and_approves(settings, mia, ada, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 2
    refused = post_action(mia, campaign, "send_now")
    assert refused.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).status == C.DRAFT
    page = mia.get(change_url(campaign)).content.decode()
    assert 'id="cd-approval"' in page and 'data-action="request_approval"' in page
    assert 'data-action="approve"' not in page  # a marketer has no approve button

    assert "Approval requested" in " ".join(flash_messages(_step(mia, campaign, "request", "big one")))
    page = ada.get(change_url(campaign)).content.decode()
    assert 'id="cd-approval-audience">3<' in page and "approval needed" in page
    assert 'id="cd-approval-cost">0.1200 EUR<' in page  # 3 recipients × 1 segment × 0.04
    assert "Hi Ann, sale today" in page and "Hi Bob, sale today" in page  # the builder's preview
    assert 'data-action="approve"' in page and 'data-action="reject"' in page
    assert 'name="_save"' not in page  # an approver changes nothing else

    response = _step(ada, campaign, "approve", "looks good")
    assert "Approved" in " ".join(flash_messages(response))
    campaign.refresh_from_db()
    assert (campaign.approval_state, campaign.approved_by) == (A.APPROVED, ada.user)
    assert post_action(mia, campaign, "send_now").status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).status == C.RUNNING

    page = mia.get(change_url(campaign)).content.decode()
    assert 'id="cd-history"' in page
    for kind in ("requested", "approved", "sent"):
        assert f'data-kind="{kind}"' in page
    assert "looks good" in page and "big one" in page


def test_the_send_refusal_says_approval_is_needed(settings, mia, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 2
    response = mia.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, "send_now"]), follow=True)
    assert any("needs an approver's approval" in m for m in flash_messages(response))


def test_self_approval_is_refused_and_said(settings, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    both = _login("bob", MARKETER, APPROVER)
    own = CampaignFactory(created_by=both.user, body="Hello")
    own.recipient_lists.set(campaign.recipient_lists.all())
    _step(both, own, "request")
    page = both.get(change_url(own)).content.decode()
    assert 'data-action="approve"' not in page and 'id="cd-approval-own"' in page
    response = _step(both, own, "approve")
    assert any("four eyes" in m for m in flash_messages(response))
    assert Campaign.objects.get(pk=own.pk).approval_state == A.PENDING


def test_a_marketer_posting_approve_is_forbidden(settings, mia, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    _step(mia, campaign, "request")
    colleague = _login("max", MARKETER)
    url = reverse("admin:campaigns_campaign_approval", args=[campaign.pk, "approve"])
    assert colleague.post(url, {"comment": ""}).status_code == 403
    assert Campaign.objects.get(pk=campaign.pk).approval_state == A.PENDING


def test_reject_with_a_comment_shows_it_to_the_marketer(settings, mia, ada, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    _step(mia, campaign, "request")
    assert any("Say why" in m for m in flash_messages(_step(ada, campaign, "reject", "")))
    _step(ada, campaign, "reject", "The link is wrong")
    assert Campaign.objects.get(pk=campaign.pk).approval_state == A.REJECTED
    page = mia.get(change_url(campaign)).content.decode()
    assert "Rejected: “The link is wrong”" in page and 'data-action="request_approval"' in page


def test_saving_a_new_text_withdraws_the_approval(settings, mia, ada, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    _step(mia, campaign, "request")
    _step(ada, campaign, "approve")
    data = builder_form_data(campaign, body="A different text", _continue="1")
    response = mia.post(change_url(campaign), data, follow=True)
    assert any("withdrew the approval" in m for m in flash_messages(response)), flash_messages(response)
    campaign.refresh_from_db()
    assert (campaign.body, campaign.approval_state, campaign.approved_by) == ("A different text", A.NONE, None)
    withdrawn = CampaignEvent.objects.get(campaign=campaign, kind="withdrawn")
    assert withdrawn.actor == mia.user and withdrawn.comment == "changed: body"


def test_with_the_setting_unset_there_is_no_panel_and_sending_works(settings, mia, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = None
    page = mia.get(change_url(campaign)).content.decode()
    assert 'id="cd-approval"' not in page
    post_action(mia, campaign, "send_now")
    assert Campaign.objects.get(pk=campaign.pk).status == C.RUNNING


def test_adding_media_in_the_builder_withdraws_the_approval(settings, tmp_path, mia, ada, campaign) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.media_samples import png

    settings.MEDIA_ROOT = tmp_path
    settings.APPROVAL_REQUIRED_ABOVE = 0
    Campaign.objects.filter(pk=campaign.pk).update(channel="mms")
    campaign.account.mm4_host = "mm4.example.net"
    campaign.account.save()
    campaign.refresh_from_db()
    _step(mia, campaign, "request")
    _step(ada, campaign, "approve")
    data = builder_form_data(campaign, channel="mms", _continue="1", **{"media-TOTAL_FORMS": "1"})
    data |= {"media-0-file": SimpleUploadedFile("p.png", png(), "image/png"), "media-0-position": "1"}
    response = mia.post(change_url(campaign), data)
    assert response.status_code == 302, response.content.decode()[:1500]
    assert campaign.media.count() == 1
    assert Campaign.objects.get(pk=campaign.pk).approval_state == A.NONE
    assert CampaignEvent.objects.get(campaign=campaign, kind="withdrawn").comment == "changed: media"


def test_the_landing_page_lists_what_waits_for_an_approver(settings, mia, ada, campaign) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    assert 'id="cd-landing-approvals"' not in ada.get(reverse("admin:index")).content.decode()
    _step(mia, campaign, "request")
    page = ada.get(reverse("admin:index")).content.decode()
    assert 'id="cd-landing-approvals"' in page and f'data-campaign="{campaign.pk}"' in page
    _step(ada, campaign, "approve")
    assert 'id="cd-landing-approvals"' not in ada.get(reverse("admin:index")).content.decode()
