"""What the marketer is told before sending (issue 14, section 4), through the admin:

the resend draft shows whom it sends to and edits like any draft; a test send is
personalised from a recipient.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, OptOut
from campaigns.services.dispatch import tick
from campaigns.statuses import MessageStatus
from tests.admin.marketer_forms import (
    BODY,
    PREVIEW,
    add_contacts,
    builder_form_data,
    change_url,
    draft_with_recipients,
    flash_messages,
    post_action,
)
from tests.factories import CampaignFactory, MessageFactory, RecipientListFactory

pytestmark = pytest.mark.django_db
C, S = CampaignStatus, MessageStatus


def _finished_with_failures() -> Campaign:
    """A completed campaign: 3 of 5 failed, one of them to a contact since deleted."""
    lst = RecipientListFactory(name="Spring customers")
    ann, bob, cy, di, ed = add_contacts(
        lst,
        [
            ("+447911100001", "Ann", {"city": "Leeds"}),
            ("+447911100002", "Bob", {"city": "York"}),
            ("+447911100003", "", {"city": "Hull"}),
            ("+447911100004", "Di", {}),
            ("+447911100005", "Ed", {}),
        ],
    )
    campaign = CampaignFactory(name="Spring sale", body=BODY, status=C.COMPLETED, materialised_at=timezone.now())
    campaign.recipient_lists.add(lst)
    for contact, status in ((ann, S.UNDELIVERED), (bob, S.DELIVERED), (cy, S.FAILED), (di, S.DELIVERED)):
        MessageFactory(campaign=campaign, contact=contact, phone=contact.phone, status=status)
    MessageFactory(campaign=campaign, contact=ed, phone=ed.phone, status=S.REJECTED)
    ed.delete()
    return campaign


# --- Resend to failed ----------------------------------------------------------------------


def test_the_resend_draft_shows_its_recipients_and_sends_to_exactly_them(marketer_client) -> None:
    original = _finished_with_failures()
    response = post_action(marketer_client, original, "resend_failed")
    resend = Campaign.objects.get(resend_of=original)
    assert response.url == change_url(resend)
    assert resend.status == C.DRAFT and resend.materialised_at is None and not resend.messages.exists()

    # Its own list, named after the original, with the failed recipients and their data.
    recipients = resend.recipient_lists.get()
    assert recipients.name == "Spring sale: failed recipients"
    rows = sorted(recipients.contacts.values_list("phone", "first_name", "attributes"))
    assert rows == [
        ("+447911100001", "Ann", {"city": "Leeds"}),
        ("+447911100003", "", {"city": "Hull"}),
        ("+447911100005", "", {}),
    ]

    page = marketer_client.get(response.url).content.decode()
    assert re.search(rf'name="recipient_lists" value="{recipients.pk}"[^>]*checked', page)  # shown, ticked
    assert 'id="cd-resend-of"' in page and change_url(original) in page

    # The preview counts and personalises exactly those recipients.
    preview = marketer_client.post(
        reverse(PREVIEW), {"body": resend.body, "account": resend.account_id, "recipient_lists": [recipients.pk]}
    ).json()
    assert preview["recipients"] == 3
    assert [s["text"] for s in preview["samples"]] == ["Hi Ann from Leeds!", "Hi  from Hull!", "Hi  from !"]

    # Send now: the messages are the list's, opt-outs applied at send time.
    OptOut.objects.create(phone="+447911100005")
    post_action(marketer_client, resend, "send_now")
    resend.refresh_from_db()
    assert resend.status == C.RUNNING
    sent = dict(resend.messages.values_list("phone", "status"))
    assert sent == {"+447911100001": S.PENDING, "+447911100003": S.PENDING, "+447911100005": S.SUPPRESSED}


def test_the_resend_draft_edits_like_any_draft(marketer_client) -> None:
    original = _finished_with_failures()
    post_action(marketer_client, original, "resend_failed")
    resend = Campaign.objects.get(resend_of=original)
    recipients = resend.recipient_lists.get()
    extra = RecipientListFactory(name="VIP")
    add_contacts(extra, [("+447911100001", "Ann again", {}), ("+447911100099", "Zed", {"city": "Ely"})])

    # Add a list in the builder and save: the draft now sends to both, a number once.
    data = builder_form_data(resend, recipient_lists=[recipients.pk, extra.pk], _continue="1")
    assert marketer_client.post(change_url(resend), data).status_code == 302
    assert set(resend.recipient_lists.values_list("id", flat=True)) == {recipients.pk, extra.pk}
    preview = marketer_client.post(reverse(PREVIEW), {"body": BODY, "recipient_lists": [recipients.pk, extra.pk]})
    assert preview.json()["recipients"] == 4

    # Duplicate keeps the lists; send now materialises them.
    post_action(marketer_client, resend, "duplicate")
    copy = Campaign.objects.get(name="Spring sale (resend to failed) (copy)")
    assert set(copy.recipient_lists.values_list("id", flat=True)) == {recipients.pk, extra.pk}
    post_action(marketer_client, resend, "send_now")
    assert sorted(resend.messages.values_list("phone", flat=True)) == [
        "+447911100001",
        "+447911100003",
        "+447911100005",
        "+447911100099",
    ]

    # Remove the failed list from the copy: it sends to the other list only.
    data = builder_form_data(copy, recipient_lists=[extra.pk], _continue="1")
    marketer_client.post(change_url(copy), data)
    post_action(marketer_client, copy, "send_now")
    assert sorted(copy.messages.values_list("phone", flat=True)) == ["+447911100001", "+447911100099"]


# --- Test send -----------------------------------------------------------------------------


def _claimed_bodies(test: Campaign) -> list[str]:
    """Run the real claim (one tick), which personalises the test's messages."""
    tick(enqueue=lambda batch: None)
    return list(test.messages.order_by("phone").values_list("body", flat=True))


def test_a_test_send_uses_the_first_recipients_data_by_default(marketer_client) -> None:
    campaign, (ann, bob) = draft_with_recipients()
    page = marketer_client.get(change_url(campaign)).content.decode()
    assert '<select id="cd-test-contact" name="contact">' in page
    assert f'<option value="{ann.pk}">Ann (+447911100001)</option>' in page  # first: the default
    response = post_action(marketer_client, campaign, "test_send", phones="+447911100009")
    test = Campaign.objects.get(is_test=True)
    assert test.messages.get().contact_id == ann.pk
    shown = flash_messages(marketer_client.get(response.url))
    assert "Test sent as a separate test campaign, personalised as Ann (+447911100001)." in shown
    assert _claimed_bodies(test) == ["Hi Ann from Leeds!"]


def test_a_test_send_as_a_chosen_contact_warns_about_its_empty_variables(marketer_client) -> None:
    campaign, (ann, bob) = draft_with_recipients()
    response = post_action(marketer_client, campaign, "test_send", phones="+447911100009", contact=str(bob.pk))
    test = Campaign.objects.get(is_test=True)
    shown = " ".join(flash_messages(marketer_client.get(response.url)))
    assert "Bob (+447911100002) has no value for {{ city }} and there is no default" in shown
    assert _claimed_bodies(test) == ["Hi Bob from !"]

    stranger = add_contacts(RecipientListFactory(), [("+447911100077", "Eve", {"city": "Rye"})])[0]
    response = post_action(marketer_client, campaign, "test_send", phones="+447911100009", contact=str(stranger.pk))
    assert "Choose a contact from the campaign's recipient lists." in flash_messages(marketer_client.get(response.url))
    assert Campaign.objects.filter(is_test=True).count() == 1


def test_a_test_send_without_recipients_says_its_variables_came_out_empty(marketer_client) -> None:
    campaign = CampaignFactory(body='Hi {{ first_name|default:"there" }} from {{ city }}!')
    response = post_action(marketer_client, campaign, "test_send", phones="+447911100009")
    shown = " ".join(flash_messages(marketer_client.get(response.url)))
    assert "no recipients to take data from: {{ city }} came out empty" in shown
