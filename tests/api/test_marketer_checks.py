"""What the marketer is told before sending (issue 14, section 4), through the API: the same
rules as the admin (tests/admin/test_marketer_*.py), asserted on the database."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import Campaign, CampaignStatus, Contact, Message, MessagePart
from campaigns.services import campaign_actions
from campaigns.services.dispatch import tick
from campaigns.statuses import MessageStatus
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, MessageFactory, RecipientListFactory

pytestmark = pytest.mark.django_db
C, S = CampaignStatus, MessageStatus
BODY = "Hi {{ first_name }} from {{ city }}!"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _post(client: APIClient, campaign: Campaign, action: str, data: dict | None = None):
    return client.post(f"/api/v1/campaigns/{campaign.id}/{action}/", data or {}, format="json")


def _patch(client: APIClient, campaign: Campaign, data: dict):
    return client.patch(f"/api/v1/campaigns/{campaign.id}/", data, format="json")


def _draft() -> tuple[Campaign, Contact, Contact]:
    lst = RecipientListFactory()
    ann = ContactFactory(recipient_list=lst, phone="+447911100001", first_name="Ann", attributes={"city": "Leeds"})
    bob = ContactFactory(recipient_list=lst, phone="+447911100002", first_name="Bob", attributes={})
    campaign = CampaignFactory(body=BODY)
    campaign.recipient_lists.add(lst)
    return campaign, ann, bob


def test_resend_failed_answers_with_its_own_list_and_sends_exactly_to_it(marketer: APIClient) -> None:
    original, ann, bob = _draft()
    campaign_actions.send_now(campaign=original)
    Message.objects.filter(campaign=original, phone=ann.phone).update(status=S.UNDELIVERED)
    Message.objects.filter(campaign=original, phone=bob.phone).update(status=S.DELIVERED)
    response = _post(marketer, original, "resend-failed")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft" and body["resend_of"] == original.id and len(body["recipient_lists"]) == 1
    listed = marketer.get(f"/api/v1/lists/{body['recipient_lists'][0]}/").json()
    assert listed["contacts_count"] == 1 and listed["name"] == f"{original.name}: failed recipients"
    contacts = marketer.get(f"/api/v1/contacts/?list={listed['id']}").json()["results"]
    assert [(c["phone"], c["first_name"], c["attributes"]) for c in contacts] == [(ann.phone, "Ann", {"city": "Leeds"})]

    # Like any draft: add a list, then send; what is sent is what the lists say.
    extra = RecipientListFactory()
    ContactFactory(recipient_list=extra, phone="+447911100050")
    resend = Campaign.objects.get(id=body["id"])
    assert _patch(marketer, resend, {"recipient_lists": [listed["id"], extra.id]}).status_code == 200
    assert _post(marketer, resend, "send-now").status_code == 200
    assert sorted(resend.messages.values_list("phone", flat=True)) == [ann.phone, "+447911100050"]


def test_test_send_is_personalised_as_the_first_or_the_chosen_recipient(marketer: APIClient) -> None:
    campaign, ann, bob = _draft()
    first = _post(marketer, campaign, "test-send", {"phones": ["+447911100009"]})
    assert first.status_code == 201, first.json()
    chosen = _post(marketer, campaign, "test-send", {"phones": ["+447911100008"], "contact": bob.id})
    assert chosen.status_code == 201, chosen.json()
    tick(enqueue=lambda batch: None)  # the real claim personalises the messages
    assert Message.objects.get(campaign_id=first.json()["id"]).body == "Hi Ann from Leeds!"
    assert Message.objects.get(campaign_id=chosen.json()["id"]).body == "Hi Bob from !"


def test_test_send_refuses_a_contact_off_the_campaigns_lists(marketer: APIClient) -> None:
    campaign, _, _ = _draft()
    stranger = ContactFactory()
    for contact, code in ((stranger.id, "invalid"), ("12", "invalid"), (0, "min_value")):
        response = _post(marketer, campaign, "test-send", {"phones": ["+447911100009"], "contact": contact})
        assert response.status_code == 400, contact
        error = response.json()["errors"][0]
        assert error["field"] == "contact" and error["code"] == code
    assert Campaign.objects.filter(is_test=True).count() == 0


def test_schedule_refused_leaves_the_draft_as_it_was(marketer: APIClient) -> None:
    campaign = CampaignFactory()  # no lists
    response = _post(marketer, campaign, "schedule", {"scheduled_at": "2031-06-01T09:00:00+00:00"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "recipient_lists"
    campaign.refresh_from_db()
    assert campaign.status == C.DRAFT and campaign.scheduled_at is None


def _paused_after_start() -> tuple[Campaign, Message]:
    campaign, _, _ = _draft()
    campaign.body = "Sale today"
    campaign.save()
    campaign_actions.send_now(campaign=campaign)
    sent = campaign.messages.order_by("phone").first()
    Message.objects.filter(id=sent.id).update(status=S.ACCEPTED)
    MessagePart.objects.create(message=sent, account=campaign.account, index=1, status=S.ACCEPTED)
    campaign_actions.pause(campaign=campaign)
    campaign.refresh_from_db()
    return campaign, sent


def test_a_paused_campaign_takes_edits_for_its_unsent_messages(marketer: APIClient) -> None:
    campaign, sent = _paused_after_start()
    unsent = campaign.messages.exclude(id=sent.id).get()
    # It had quiet hours, and its unsent message waits for the window to open.
    Campaign.objects.filter(id=campaign.id).update(quiet_hours_start=time(9), quiet_hours_end=time(20))
    Message.objects.filter(id=unsent.id).update(not_before=datetime(2030, 1, 1, 9, tzinfo=UTC))
    response = _patch(
        marketer,
        campaign,
        {
            "body": 'Sale ends at {{ city|default:"noon" }}',
            "sender": "NEWS",
            "quiet_hours_start": None,
            "quiet_hours_end": None,
        },
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "paused"
    unsent.refresh_from_db()
    assert (unsent.body, unsent.not_before) == ("", None)  # new text and window at the next claim
    assert Message.objects.get(id=sent.id).body == "Sale today"  # what went out stays as sent
    campaign_actions.resume(campaign=campaign)
    tick(enqueue=lambda batch: None)
    unsent.refresh_from_db()
    assert (unsent.status, unsent.body) == (S.QUEUED, "Sale ends at noon")


def test_a_paused_campaign_keeps_its_recipients_account_and_channel(marketer: APIClient) -> None:
    campaign, _ = _paused_after_start()
    other = RecipientListFactory()
    for change, field in (
        ({"recipient_lists": [other.id]}, "recipient_lists"),
        ({"account": AccountFactory().id}, "account"),
        ({"channel": "mms"}, "channel"),
    ):
        response = _patch(marketer, campaign, change)
        assert response.status_code == 409, change
        error = response.json()["errors"][0]
        assert error["field"] == field and "cannot change once sending has started" in error["message"]
    # The same values again are no change, and are accepted.
    same = {"recipient_lists": list(campaign.recipient_lists.values_list("id", flat=True)), "channel": "sms"}
    assert _patch(marketer, campaign, same).status_code == 200


def test_a_paused_campaign_that_never_started_may_change_its_lists(marketer: APIClient) -> None:
    campaign, _, _ = _draft()
    campaign_actions.schedule(campaign=campaign, at=datetime(2031, 1, 1, tzinfo=UTC))
    campaign_actions.pause(campaign=campaign)
    other = RecipientListFactory()
    assert _patch(marketer, campaign, {"recipient_lists": [other.id]}).status_code == 200
    assert list(Campaign.objects.get(id=campaign.id).recipient_lists.all()) == [other]


def test_a_running_campaign_is_still_read_only(marketer: APIClient) -> None:
    campaign = CampaignFactory(status=C.RUNNING, materialised_at=timezone.now())
    MessageFactory(campaign=campaign)
    response = _patch(marketer, campaign, {"body": "x"})
    assert response.status_code == 409 and "pause it first" in response.json()["errors"][0]["message"]


def test_resume_checks_what_was_edited_while_paused(marketer: APIClient) -> None:
    campaign, _ = _paused_after_start()
    assert _patch(marketer, campaign, {"body": ""}).status_code == 200
    response = _post(marketer, campaign, "resume")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {"field": "body", "code": "invalid", "message": "The message is empty."}
    assert Campaign.objects.get(id=campaign.id).status == C.PAUSED
