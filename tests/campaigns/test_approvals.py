"""Approval before sending, at the service level, on PostgreSQL: the rule, the four-eyes
check, withdrawal on edit, the tick's last check and the history rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from campaigns.errors import ApplicationError
from campaigns.models import ApprovalState, Campaign, CampaignEvent, CampaignStatus, Message
from campaigns.roles import APPROVER, MARKETER, sync_roles
from campaigns.services import approvals, campaign_actions, campaign_edits
from campaigns.services.dispatch import start_due_campaigns
from tests.factories import CampaignFactory, ContactFactory, RecipientListFactory

pytestmark = pytest.mark.django_db
A, C = ApprovalState, CampaignStatus


def _user(name: str, *roles: str) -> User:
    sync_roles()
    user = User.objects.create_user(name, password="pw-for-tests", is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


@pytest.fixture
def marketer() -> User:
    return _user("mia", MARKETER)


@pytest.fixture
def approver() -> User:
    return _user("ada", APPROVER)


def _campaign(recipients: int, creator: User) -> Campaign:
    recipient_list = RecipientListFactory()
    for n in range(recipients):
        ContactFactory(recipient_list=recipient_list, phone=f"+4479111{n:05d}")
    campaign = CampaignFactory(body="Hi {{ first_name }}", created_by=creator)
    campaign.recipient_lists.add(recipient_list)
    return campaign


def _kinds(campaign: Campaign) -> list[str]:
    return list(CampaignEvent.objects.filter(campaign=campaign).order_by("at", "id").values_list("kind", flat=True))


def test_above_the_threshold_sending_and_scheduling_wait_for_an_approver(settings, marketer, approver) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 3
    campaign = _campaign(4, marketer)
    for attempt in (
        lambda: campaign_actions.send_now(campaign=campaign, actor=marketer),
        lambda: campaign_actions.schedule(campaign=campaign, at=timezone.now() + timedelta(days=1), actor=marketer),
    ):
        with pytest.raises(ApplicationError) as refused:
            attempt()
        assert refused.value.code == "approval_required"
        assert "4 recipients" in refused.value.message and "more than 3" in refused.value.message
    campaign.refresh_from_db()
    assert campaign.status == C.DRAFT and not Message.objects.filter(campaign=campaign).exists()

    approvals.request_approval(campaign=campaign, actor=marketer, comment="spring sale")
    with pytest.raises(ApplicationError, match="waiting for an approver"):
        campaign_actions.send_now(campaign=campaign)
    approvals.approve(campaign=campaign, actor=approver, comment="fine")
    campaign.refresh_from_db()
    assert (campaign.approval_state, campaign.approved_by, campaign.approved_at is not None) == (
        A.APPROVED,
        approver,
        True,
    )
    campaign_actions.send_now(campaign=campaign, actor=marketer)
    campaign.refresh_from_db()
    assert campaign.status == C.RUNNING and Message.objects.filter(campaign=campaign).count() == 4
    assert _kinds(campaign) == ["requested", "approved", "sent"]
    events = list(CampaignEvent.objects.filter(campaign=campaign).order_by("id"))
    assert [(e.actor, e.comment) for e in events] == [(marketer, "spring sale"), (approver, "fine"), (marketer, "")]


def test_at_or_below_the_threshold_and_with_the_setting_unset_nothing_is_asked(settings, marketer) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 3
    small = _campaign(3, marketer)
    campaign_actions.send_now(campaign=small)
    assert Campaign.objects.get(pk=small.pk).status == C.RUNNING
    settings.APPROVAL_REQUIRED_ABOVE = None
    big = _campaign(50, marketer)
    assert not approvals.needs_approval(big)
    campaign_actions.schedule(campaign=big, at=timezone.now() + timedelta(hours=1))
    assert Campaign.objects.get(pk=big.pk).status == C.SCHEDULED


def test_zero_means_every_campaign_but_test_sends_are_exempt(settings, marketer) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    campaign = _campaign(1, marketer)
    with pytest.raises(ApplicationError, match="every campaign needs") as refused:
        campaign_actions.send_now(campaign=campaign)
    assert refused.value.code == "approval_required"
    test = campaign_actions.send_test(campaign=campaign, phones=["+447911100001"])
    assert test.is_test and test.status == C.RUNNING


def test_four_eyes_the_creator_or_requester_cannot_approve_even_as_an_approver(settings, marketer) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    both = _user("bob", MARKETER, APPROVER)
    own = _campaign(2, both)
    approvals.request_approval(campaign=own, actor=both)
    for decide in (approvals.approve, approvals.reject):
        with pytest.raises(ApplicationError) as refused:
            decide(campaign=own, actor=both, comment="mine")
        assert refused.value.code == "self_approval" and "four eyes" in refused.value.message
    other = _campaign(2, marketer)  # created by mia, requested by bob: bob still may not
    approvals.request_approval(campaign=other, actor=both)
    with pytest.raises(ApplicationError, match="asked approval for"):
        approvals.approve(campaign=other, actor=both)
    assert Campaign.objects.get(pk=own.pk).approval_state == A.PENDING


def test_a_marketer_without_the_role_cannot_approve(settings, marketer) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    colleague = _user("max", MARKETER)
    campaign = _campaign(2, marketer)
    approvals.request_approval(campaign=campaign, actor=marketer)
    with pytest.raises(ApplicationError) as refused:
        approvals.approve(campaign=campaign, actor=colleague)
    assert refused.value.code == "permission_denied"
    assert Campaign.objects.get(pk=campaign.pk).approval_state == A.PENDING
    assert not colleague.has_perm(approvals.APPROVE_PERMISSION)


def test_reject_needs_a_comment_and_the_marketer_may_ask_again(settings, marketer, approver) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    campaign = _campaign(2, marketer)
    with pytest.raises(ApplicationError, match="request approval first"):
        approvals.approve(campaign=campaign, actor=approver)
    approvals.request_approval(campaign=campaign, actor=marketer)
    with pytest.raises(ApplicationError, match="Say why") as refused:
        approvals.reject(campaign=campaign, actor=approver, comment="  ")
    assert refused.value.field == "comment"
    approvals.reject(campaign=campaign, actor=approver, comment="Link is wrong")
    campaign.refresh_from_db()
    assert campaign.approval_state == A.REJECTED and campaign.approved_by is None
    with pytest.raises(ApplicationError, match="rejected: change it"):
        campaign_actions.send_now(campaign=campaign)
    approvals.request_approval(campaign=campaign, actor=marketer)
    assert _kinds(campaign) == ["requested", "rejected", "requested"]
    assert CampaignEvent.objects.get(campaign=campaign, kind="rejected").comment == "Link is wrong"


def test_editing_what_was_approved_withdraws_it_and_unschedules(settings, marketer, approver) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 1
    campaign = _campaign(2, marketer)
    approvals.request_approval(campaign=campaign, actor=marketer)
    approvals.approve(campaign=campaign, actor=approver)
    campaign.refresh_from_db()
    campaign_edits.apply_edit(campaign=campaign, changed={"name", "send_rate"}, actor=marketer)  # not judged
    assert Campaign.objects.get(pk=campaign.pk).approval_state == A.APPROVED
    campaign_actions.schedule(campaign=campaign, at=timezone.now() + timedelta(days=1), actor=marketer)
    campaign.body = "Something else"
    campaign.save()
    campaign_edits.apply_edit(campaign=campaign, changed={"body", "recipient_lists"}, actor=marketer)
    campaign.refresh_from_db()
    assert (campaign.approval_state, campaign.approved_by, campaign.status) == (A.NONE, None, C.DRAFT)
    assert _kinds(campaign) == ["requested", "approved", "scheduled", "withdrawn", "unscheduled"]
    assert CampaignEvent.objects.get(campaign=campaign, kind="withdrawn").comment == "changed: body, recipient lists"
    with pytest.raises(ApplicationError) as refused:
        campaign_actions.send_now(campaign=campaign)
    assert refused.value.code == "approval_required"


def test_a_paused_campaign_edited_needs_approval_again_to_resume(settings, marketer, approver) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 1
    campaign = _campaign(3, marketer)
    approvals.request_approval(campaign=campaign, actor=marketer)
    approvals.approve(campaign=campaign, actor=approver)
    campaign_actions.send_now(campaign=campaign)
    campaign_actions.pause(campaign=campaign, actor=marketer)
    campaign_edits.apply_edit(campaign=campaign, changed={"body"}, actor=marketer)
    with pytest.raises(ApplicationError) as refused:
        campaign_actions.resume(campaign=Campaign.objects.get(pk=campaign.pk))
    assert refused.value.code == "approval_required" and "3 recipients" in refused.value.message
    assert Campaign.objects.get(pk=campaign.pk).status == C.PAUSED
    assert _kinds(campaign) == ["requested", "approved", "sent", "paused", "withdrawn"]


def test_the_tick_holds_a_scheduled_campaign_whose_lists_grew_past_the_threshold(settings, marketer) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 2
    campaign = _campaign(2, marketer)
    now = timezone.now()
    campaign_actions.schedule(campaign=campaign, at=now + timedelta(seconds=1))
    ContactFactory(recipient_list=campaign.recipient_lists.get(), phone="+447911199999")  # an import after it
    assert start_due_campaigns(now=now + timedelta(seconds=2)) == []
    campaign.refresh_from_db()
    assert campaign.status == C.DRAFT and not Message.objects.filter(campaign=campaign).exists()
    held = CampaignEvent.objects.get(campaign=campaign, kind="unscheduled")
    assert held.actor is None and "3 recipients" in held.comment


def test_a_copy_is_not_approved(settings, marketer, approver) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    campaign = _campaign(1, marketer)
    approvals.request_approval(campaign=campaign, actor=marketer)
    approvals.approve(campaign=campaign, actor=approver)
    copy = campaign_actions.duplicate(campaign=Campaign.objects.get(pk=campaign.pk))
    assert (copy.approval_state, copy.approved_by, copy.approved_at) == (A.NONE, None, None)


def test_finished_campaigns_cannot_be_decided_and_cancel_is_recorded(settings, marketer, approver) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    campaign = _campaign(1, marketer)
    approvals.request_approval(campaign=campaign, actor=marketer)
    campaign_actions.cancel(campaign=campaign, actor=marketer)
    with pytest.raises(ApplicationError) as refused:
        approvals.approve(campaign=campaign, actor=approver)
    assert refused.value.code == "invalid_state"
    assert _kinds(campaign) == ["requested", "cancelled"]


def test_the_setting_is_a_count_or_unset(monkeypatch) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_count

    monkeypatch.delenv("APPROVAL_REQUIRED_ABOVE", raising=False)
    assert env_count("APPROVAL_REQUIRED_ABOVE") is None
    for raw, expected in (("", None), (" 0 ", 0), ("1000", 1000)):
        monkeypatch.setenv("APPROVAL_REQUIRED_ABOVE", raw)
        assert env_count("APPROVAL_REQUIRED_ABOVE") == expected
    for bad in ("-1", "ten", "1e3"):
        monkeypatch.setenv("APPROVAL_REQUIRED_ABOVE", bad)
        with pytest.raises(ImproperlyConfigured, match="APPROVAL_REQUIRED_ABOVE"):
            env_count("APPROVAL_REQUIRED_ABOVE")


def test_what_cannot_be_sent_cannot_be_put_up_for_approval(settings, marketer) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    campaign = CampaignFactory(body="Hi", created_by=marketer)  # no recipient list
    with pytest.raises(ApplicationError) as refused:
        approvals.request_approval(campaign=campaign, actor=marketer)
    assert refused.value.field == "recipient_lists"
    assert not CampaignEvent.objects.filter(campaign=campaign).exists()


def test_a_whole_row_save_loaded_earlier_does_not_undo_an_approval_step(settings, marketer, approver) -> None:
    settings.APPROVAL_REQUIRED_ABOVE = 0
    campaign = _campaign(1, marketer)
    approvals.request_approval(campaign=campaign, actor=marketer)
    stale = Campaign.objects.get(pk=campaign.pk)  # a form opened while pending
    approvals.approve(campaign=campaign, actor=approver)
    stale.name = "Renamed"
    stale.save()
    fresh = Campaign.objects.get(pk=campaign.pk)
    assert (fresh.name, fresh.approval_state, fresh.approved_by) == ("Renamed", A.APPROVED, approver)
    loaded_approved = Campaign.objects.get(pk=campaign.pk)
    campaign_edits.apply_edit(campaign=fresh, changed={"body"}, actor=marketer)  # another edit withdraws it
    loaded_approved.send_rate = 5
    loaded_approved.save()
    assert Campaign.objects.get(pk=campaign.pk).approval_state == A.NONE
