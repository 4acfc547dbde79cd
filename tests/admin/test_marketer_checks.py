"""What the marketer is told before sending (issue 14, section 4), through the admin:

the resend draft shows whom it sends to and edits like any draft; a test send is
personalised from a recipient; the builder warns about variables recipients lack; "Save
and schedule" keeps what was typed; a paused campaign can be edited, and the edit reaches
only the messages not yet sent.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, Contact, Message, MessagePart, OptOut, RecipientList
from campaigns.services import campaign_actions
from campaigns.services.dispatch import tick
from campaigns.statuses import MessageStatus
from tests.factories import AccountFactory, CampaignFactory, MessageFactory, RecipientListFactory

pytestmark = pytest.mark.django_db
C, S = CampaignStatus, MessageStatus
PREVIEW = "admin:campaigns_campaign_preview"
BODY = "Hi {{ first_name }} from {{ city }}!"


def _contacts(lst: RecipientList, rows: list[tuple[str, str, dict]]) -> list[Contact]:
    return Contact.objects.bulk_create(
        Contact(recipient_list=lst, phone=phone, first_name=first, attributes=attrs) for phone, first, attrs in rows
    )


def _change(campaign: Campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def _action(client, campaign: Campaign, name: str, **data):
    return client.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, name]), data)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _form_data(campaign: Campaign | None = None, **overrides) -> dict:
    """The builder's POST as the browser sends it (a draft's editable fields)."""
    data = {
        "name": "Winter sale",
        "channel": "sms",
        "account": "",
        "sender": "",
        "body": BODY,
        "mms_subject": "",
        "recipient_lists": [],
        "scheduled_local": "",
        "timezone": "UTC",
        "send_rate": "",
        "quiet_hours_start": "",
        "quiet_hours_end": "",
        "validity_period": "",
        "media-TOTAL_FORMS": "0",
        "media-INITIAL_FORMS": "0",
    }
    if campaign is not None:
        data.update(
            name=campaign.name,
            account=campaign.account_id,
            body=campaign.body,
            timezone=campaign.timezone,
            recipient_lists=list(campaign.recipient_lists.values_list("id", flat=True)),
        )
    data.update(overrides)
    return data


def _finished_with_failures() -> Campaign:
    """A completed campaign: 3 of 5 failed, one of them to a contact since deleted."""
    lst = RecipientListFactory(name="Spring customers")
    ann, bob, cy, di, ed = _contacts(
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
    response = _action(marketer_client, original, "resend_failed")
    resend = Campaign.objects.get(resend_of=original)
    assert response.url == _change(resend)
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
    assert 'id="cd-resend-of"' in page and _change(original) in page

    # The preview counts and personalises exactly those recipients.
    preview = marketer_client.post(
        reverse(PREVIEW), {"body": resend.body, "account": resend.account_id, "recipient_lists": [recipients.pk]}
    ).json()
    assert preview["recipients"] == 3
    assert [s["text"] for s in preview["samples"]] == ["Hi Ann from Leeds!", "Hi  from Hull!", "Hi  from !"]

    # Send now: the messages are the list's, opt-outs applied at send time.
    OptOut.objects.create(phone="+447911100005")
    _action(marketer_client, resend, "send_now")
    resend.refresh_from_db()
    assert resend.status == C.RUNNING
    sent = dict(resend.messages.values_list("phone", "status"))
    assert sent == {"+447911100001": S.PENDING, "+447911100003": S.PENDING, "+447911100005": S.SUPPRESSED}


def test_the_resend_draft_edits_like_any_draft(marketer_client) -> None:
    original = _finished_with_failures()
    _action(marketer_client, original, "resend_failed")
    resend = Campaign.objects.get(resend_of=original)
    recipients = resend.recipient_lists.get()
    extra = RecipientListFactory(name="VIP")
    _contacts(extra, [("+447911100001", "Ann again", {}), ("+447911100099", "Zed", {"city": "Ely"})])

    # Add a list in the builder and save: the draft now sends to both, a number once.
    data = _form_data(resend, recipient_lists=[recipients.pk, extra.pk], _continue="1")
    assert marketer_client.post(_change(resend), data).status_code == 302
    assert set(resend.recipient_lists.values_list("id", flat=True)) == {recipients.pk, extra.pk}
    preview = marketer_client.post(reverse(PREVIEW), {"body": BODY, "recipient_lists": [recipients.pk, extra.pk]})
    assert preview.json()["recipients"] == 4

    # Duplicate keeps the lists; send now materialises them.
    _action(marketer_client, resend, "duplicate")
    copy = Campaign.objects.get(name="Spring sale (resend to failed) (copy)")
    assert set(copy.recipient_lists.values_list("id", flat=True)) == {recipients.pk, extra.pk}
    _action(marketer_client, resend, "send_now")
    assert sorted(resend.messages.values_list("phone", flat=True)) == [
        "+447911100001",
        "+447911100003",
        "+447911100005",
        "+447911100099",
    ]

    # Remove the failed list from the copy: it sends to the other list only.
    data = _form_data(copy, recipient_lists=[extra.pk], _continue="1")
    marketer_client.post(_change(copy), data)
    _action(marketer_client, copy, "send_now")
    assert sorted(copy.messages.values_list("phone", flat=True)) == ["+447911100001", "+447911100099"]


# --- Test send -----------------------------------------------------------------------------


def _draft_with_recipients() -> tuple[Campaign, list[Contact]]:
    lst = RecipientListFactory()
    contacts = _contacts(lst, [("+447911100001", "Ann", {"city": "Leeds"}), ("+447911100002", "Bob", {})])
    campaign = CampaignFactory(body=BODY)
    campaign.recipient_lists.add(lst)
    return campaign, contacts


def _claimed_bodies(test: Campaign) -> list[str]:
    """Run the real claim (one tick), which personalises the test's messages."""
    tick(enqueue=lambda batch: None)
    return list(test.messages.order_by("phone").values_list("body", flat=True))


def test_a_test_send_uses_the_first_recipients_data_by_default(marketer_client) -> None:
    campaign, (ann, bob) = _draft_with_recipients()
    page = marketer_client.get(_change(campaign)).content.decode()
    assert '<select id="cd-test-contact" name="contact">' in page
    assert f'<option value="{ann.pk}">Ann (+447911100001)</option>' in page  # first: the default
    response = _action(marketer_client, campaign, "test_send", phones="+447911100009")
    test = Campaign.objects.get(is_test=True)
    assert test.messages.get().contact_id == ann.pk
    shown = _messages(marketer_client.get(response.url))
    assert "Test sent as a separate test campaign, personalised as Ann (+447911100001)." in shown
    assert _claimed_bodies(test) == ["Hi Ann from Leeds!"]


def test_a_test_send_as_a_chosen_contact_warns_about_its_empty_variables(marketer_client) -> None:
    campaign, (ann, bob) = _draft_with_recipients()
    response = _action(marketer_client, campaign, "test_send", phones="+447911100009", contact=str(bob.pk))
    test = Campaign.objects.get(is_test=True)
    shown = " ".join(_messages(marketer_client.get(response.url)))
    assert "Bob (+447911100002) has no value for {{ city }} and there is no default" in shown
    assert _claimed_bodies(test) == ["Hi Bob from !"]

    stranger = _contacts(RecipientListFactory(), [("+447911100077", "Eve", {"city": "Rye"})])[0]
    response = _action(marketer_client, campaign, "test_send", phones="+447911100009", contact=str(stranger.pk))
    assert "Choose a contact from the campaign's recipient lists." in _messages(marketer_client.get(response.url))
    assert Campaign.objects.filter(is_test=True).count() == 1


def test_a_test_send_without_recipients_says_its_variables_came_out_empty(marketer_client) -> None:
    campaign = CampaignFactory(body='Hi {{ first_name|default:"there" }} from {{ city }}!')
    response = _action(marketer_client, campaign, "test_send", phones="+447911100009")
    shown = " ".join(_messages(marketer_client.get(response.url)))
    assert "no recipients to take data from: {{ city }} came out empty" in shown


# --- Variable warnings in the builder ------------------------------------------------------


def test_the_preview_warns_about_every_variable_some_recipients_lack(
    marketer_client, django_assert_max_num_queries
) -> None:
    lst = RecipientListFactory()
    _contacts(
        lst,
        [
            ("+447911100001", "Ann", {"city": "Leeds", "shop": "Kirkgate"}),
            ("+447911100002", "", {"city": ""}),
            ("+447911100003", "Cy", {"city": None}),
            ("+447911100004", "Di", {"city": 0}),
            ("+447911100005", "Ed", {"first_name": "Not used: the column wins"}),
        ],
    )
    body = 'Hi {{ first_name }}, {{ city }} {{ shop }} {{ last_name|default:"friend" }} {{ city|default:"x" }}'
    with django_assert_max_num_queries(8):
        data = marketer_client.post(reverse(PREVIEW), {"body": body, "recipient_lists": [lst.pk]}).json()
    warnings = {w["variable"]: w for w in data["variable_warnings"]}
    assert set(warnings) == {"first_name", "city", "shop"}  # last_name has a default everywhere
    assert (warnings["first_name"]["missing"], warnings["city"]["missing"], warnings["shop"]["missing"]) == (1, 3, 4)
    assert warnings["city"]["message"] == (
        '3 of 5 recipients have no city: {{ city }} will be empty for them (give a fallback: {{ city|default:"…" }}).'
    )
    assert warnings["first_name"]["message"].startswith("1 of 5 recipients has no first_name")

    none_have = marketer_client.post(reverse(PREVIEW), {"body": "{{ town }}", "recipient_lists": [lst.pk]}).json()
    assert none_have["variable_warnings"][0]["message"].startswith("No recipient has a value for town")
    fine = marketer_client.post(reverse(PREVIEW), {"body": '{{ town|default:"here" }}', "recipient_lists": [lst.pk]})
    assert fine.json()["variable_warnings"] == []


def test_variable_warnings_count_a_number_on_two_lists_once_with_the_contact_that_is_sent(marketer_client) -> None:
    first, second = RecipientListFactory(), RecipientListFactory()
    _contacts(first, [("+447911100001", "Ann", {"city": "Leeds"})])  # lower id: the one materialised
    _contacts(second, [("+447911100001", "Ann", {}), ("+447911100002", "Bob", {})])
    data = marketer_client.post(reverse(PREVIEW), {"body": "{{ city }}", "recipient_lists": [first.pk, second.pk]})
    assert data.json()["recipients"] == 2
    assert [(w["variable"], w["missing"]) for w in data.json()["variable_warnings"]] == [("city", 1)]


# --- Save and schedule ---------------------------------------------------------------------


def test_save_and_schedule_on_a_new_campaign_keeps_the_time_and_zone_typed(marketer_client) -> None:
    account = AccountFactory()
    lst = _draft_with_recipients()[0].recipient_lists.get()
    data = _form_data(
        account=account.pk,
        recipient_lists=[lst.pk],
        scheduled_local="2031-01-15T09:00",
        timezone="America/New_York",
        _schedule="1",
    )
    response = marketer_client.post(reverse("admin:campaigns_campaign_add"), data)
    campaign = Campaign.objects.get(name="Winter sale")
    assert response.status_code == 302 and response.url == _change(campaign)
    assert campaign.status == C.SCHEDULED
    assert campaign.scheduled_at == datetime(2031, 1, 15, 14, 0, tzinfo=UTC) and campaign.timezone == "America/New_York"
    assert "Saved and scheduled for 2031-01-15 09:00 America/New_York." in _messages(marketer_client.get(response.url))


def test_schedule_without_a_time_keeps_the_input_and_says_what_is_missing(marketer_client) -> None:
    account = AccountFactory()
    data = _form_data(account=account.pk, name="Typed name", timezone="Asia/Tokyo", send_rate="7", _schedule="1")
    response = marketer_client.post(reverse("admin:campaigns_campaign_add"), data)
    assert response.status_code == 200 and not Campaign.objects.exists()
    page = response.content.decode()
    assert "Choose when to send: scheduling needs a date and time" in page
    assert 'value="Typed name"' in page and 'value="7"' in page
    assert '<option value="Asia/Tokyo" selected>' in page


def test_save_and_schedule_refused_by_the_service_leaves_a_saved_draft_with_its_time(marketer_client) -> None:
    campaign = CampaignFactory()  # no recipient lists: cannot be scheduled
    data = _form_data(campaign, scheduled_local="2031-06-01T10:30", timezone="Europe/Paris", _schedule="1")
    response = marketer_client.post(_change(campaign), data)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == C.DRAFT and campaign.timezone == "Europe/Paris"
    assert campaign.scheduled_at == datetime(2031, 6, 1, 8, 30, tzinfo=UTC)
    page = marketer_client.get(response.url)
    assert "Saved, but not scheduled: Choose at least one recipient list." in _messages(page)
    assert 'value="2031-06-01T10:30"' in page.content.decode()


def test_a_scheduled_campaign_cannot_lose_its_time_by_saving(marketer_client) -> None:
    campaign, _ = _draft_with_recipients()
    campaign_actions.schedule(campaign=campaign, at=datetime(2031, 1, 1, 9, 0, tzinfo=UTC))
    response = marketer_client.post(_change(campaign), _form_data(campaign, scheduled_local=""))
    assert response.status_code == 200 and "Keep a time: this campaign waits for it" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.scheduled_at == datetime(2031, 1, 1, 9, 0, tzinfo=UTC)


# --- Editing while paused ------------------------------------------------------------------


def _paused_half_sent() -> tuple[Campaign, Message, Message]:
    """A started campaign, paused: one message sent (with its part), one deferred, one waiting."""
    lst = RecipientListFactory()
    _contacts(lst, [("+447911100001", "Ann", {}), ("+447911100002", "Bob", {}), ("+447911100003", "Cy", {})])
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
    page = marketer_client.get(_change(campaign)).content.decode()
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
    response = marketer_client.post(_change(campaign), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.body, campaign.sender, campaign.send_rate) == (
        C.PAUSED,
        "Sale ends tomorrow",
        "NEWS",
        5,
    )
    assert "The change applies to the 2 messages not yet sent" in " ".join(_messages(marketer_client.get(response.url)))
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
    campaign, _ = _draft_with_recipients()
    campaign_actions.schedule(campaign=campaign, at=datetime(2031, 1, 1, 9, 0, tzinfo=UTC))
    campaign_actions.pause(campaign=campaign)
    page = marketer_client.get(_change(campaign)).content.decode()
    assert 'name="recipient_lists"' in page and 'name="scheduled_local"' in page
    other = RecipientListFactory()
    data = _form_data(campaign, recipient_lists=[other.pk], scheduled_local="2031-02-01T09:00", _continue="1")
    assert marketer_client.post(_change(campaign), data).status_code == 302
    campaign_actions.resume(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == C.SCHEDULED and list(campaign.recipient_lists.all()) == [other]
    assert campaign.scheduled_at == datetime(2031, 2, 1, 9, 0, tzinfo=UTC)


def test_a_form_posted_after_resume_is_refused_not_saved_into_the_running_campaign(marketer_client) -> None:
    campaign, _, _ = _paused_half_sent()
    page = marketer_client.get(_change(campaign)).content.decode()
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
    assert marketer_client.post(_change(campaign), data).status_code == 403
    campaign.refresh_from_db()
    assert (campaign.status, campaign.body, campaign.timezone) == (C.RUNNING, "Sale today", "UTC")
    assert 'name="body"' not in marketer_client.get(_change(campaign)).content.decode()
