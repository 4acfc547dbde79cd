"""What the marketer is told before sending (issue 14, section 4), through the admin:

a paused campaign can be edited, and the edit reaches only the messages not yet sent.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from campaigns.models import Campaign, CampaignStatus, Message, MessagePart
from campaigns.services import campaign_actions
from campaigns.statuses import MessageStatus
from tests.admin.marketer_forms import (
    add_contacts,
    builder_form_data,
    change_url,
    draft_with_recipients,
    flash_messages,
)
from tests.factories import CampaignFactory, RecipientListFactory

pytestmark = pytest.mark.django_db
C, S = CampaignStatus, MessageStatus


# --- Editing while paused ------------------------------------------------------------------


def _paused_half_sent() -> tuple[Campaign, Message, Message]:
    """A started campaign, paused: one message sent (with its part), one deferred, one waiting."""
    lst = RecipientListFactory()
    add_contacts(lst, [("+447911100001", "Ann", {}), ("+447911100002", "Bob", {}), ("+447911100003", "Cy", {})])
    campaign = CampaignFactory(
        body="Sale today",
        quiet_hours_start=time(9),
        quiet_hours_end=time(20),
        scheduled_at=datetime(2030, 1, 1, 8, tzinfo=UTC),
    )
    campaign.recipient_lists.add(lst)
    campaign_actions.send_now(campaign=campaign)
    sent, deferred, waiting = campaign.messages.order_by("phone")
    Message.objects.filter(id=sent.id).update(status=S.ACCEPTED)
    MessagePart.objects.create(message=sent, account=campaign.account, index=1, status=S.ACCEPTED)
    Message.objects.filter(id=deferred.id).update(not_before=datetime(2030, 1, 1, 9, tzinfo=UTC))
    campaign_actions.pause(campaign=campaign)
    campaign.refresh_from_db()
    return campaign, sent, deferred


def test_a_paused_campaign_is_editable_and_says_what_an_edit_affects(marketer_client) -> None:
    campaign, sent, deferred = _paused_half_sent()
    page = marketer_client.get(change_url(campaign)).content.decode()
    assert 'name="body"' in page and 'name="send_rate"' in page and 'name="quiet_hours_start"' in page
    assert 'name="_save"' in page and "/action/resume/" in page
    # Recipients, account and channel are fixed: their messages exist.
    assert 'name="recipient_lists"' not in page and 'name="account"' not in page and 'name="channel"' not in page
    assert 'id="cd-edit-scope"' in page and "<strong>2</strong> messages not yet sent; the 1 already sent" in page
    assert "data-fixed=" in page  # the preview still knows the account and lists

    data = {
        "name": campaign.name,
        "sender": "NEWS",
        "body": "Sale ends tomorrow",
        "timezone": "UTC",
        "send_rate": "5",
        "quiet_hours_start": "08:00",
        "quiet_hours_end": "21:00",
        "validity_period": "",
        "media-TOTAL_FORMS": "0",
        "media-INITIAL_FORMS": "0",
        "_continue": "1",
    }
    response = marketer_client.post(change_url(campaign), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.body, campaign.sender, campaign.send_rate) == (
        C.PAUSED,
        "Sale ends tomorrow",
        "NEWS",
        5,
    )
    assert "The change applies to the 2 messages not yet sent" in " ".join(
        flash_messages(marketer_client.get(response.url))
    )
    # Unsent messages take the new text (their copied body is cleared) and lose the old window's deferral;
    # the sent one keeps the text it went out with.
    bodies = dict(campaign.messages.values_list("phone", "body"))
    assert bodies[sent.phone] == "Sale today" and set(bodies.values()) == {"Sale today", ""}
    assert campaign.messages.get(id=deferred.id).not_before is None
    assert campaign.scheduled_at == datetime(2030, 1, 1, 8, tzinfo=UTC)  # its start is history, kept
    campaign_actions.resume(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == C.RUNNING


def test_a_paused_campaign_that_never_started_edits_everything(marketer_client) -> None:
    campaign, _ = draft_with_recipients()
    campaign_actions.schedule(campaign=campaign, at=datetime(2031, 1, 1, 9, 0, tzinfo=UTC))
    campaign_actions.pause(campaign=campaign)
    page = marketer_client.get(change_url(campaign)).content.decode()
    assert 'name="recipient_lists"' in page and 'name="scheduled_local"' in page
    other = RecipientListFactory()
    data = builder_form_data(campaign, recipient_lists=[other.pk], scheduled_local="2031-02-01T09:00", _continue="1")
    assert marketer_client.post(change_url(campaign), data).status_code == 302
    campaign_actions.resume(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == C.SCHEDULED and list(campaign.recipient_lists.all()) == [other]
    assert campaign.scheduled_at == datetime(2031, 2, 1, 9, 0, tzinfo=UTC)


def test_a_form_posted_after_resume_is_refused_not_saved_into_the_running_campaign(marketer_client) -> None:
    campaign, _, _ = _paused_half_sent()
    page = marketer_client.get(change_url(campaign)).content.decode()
    assert 'name="body"' in page  # opened while paused
    campaign_actions.resume(campaign=campaign)
    data = {
        "name": campaign.name,
        "sender": "",
        "body": "Too late",
        "timezone": "Asia/Tokyo",
        "send_rate": "",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        "validity_period": "",
        "media-TOTAL_FORMS": "0",
        "media-INITIAL_FORMS": "0",
    }
    assert marketer_client.post(change_url(campaign), data).status_code == 403
    campaign.refresh_from_db()
    assert (campaign.status, campaign.body, campaign.timezone) == (C.RUNNING, "Sale today", "UTC")
    assert 'name="body"' not in marketer_client.get(change_url(campaign)).content.decode()
