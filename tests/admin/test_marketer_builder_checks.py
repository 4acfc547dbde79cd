"""What the marketer is told before sending (issue 14, section 4), through the admin:

the builder warns about variables recipients lack; "Save and schedule" keeps what was typed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from campaigns.models import Campaign, CampaignStatus
from campaigns.services import campaign_actions
from campaigns.statuses import MessageStatus
from tests.admin.marketer_forms import (
    PREVIEW,
    add_contacts,
    builder_form_data,
    change_url,
    draft_with_recipients,
    flash_messages,
)
from tests.factories import AccountFactory, CampaignFactory, RecipientListFactory

pytestmark = pytest.mark.django_db
C, S = CampaignStatus, MessageStatus


# --- Variable warnings in the builder ------------------------------------------------------


def test_the_preview_warns_about_every_variable_some_recipients_lack(
    marketer_client, django_assert_max_num_queries
) -> None:
    lst = RecipientListFactory()
    add_contacts(
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
    add_contacts(first, [("+447911100001", "Ann", {"city": "Leeds"})])  # lower id: the one materialised
    add_contacts(second, [("+447911100001", "Ann", {}), ("+447911100002", "Bob", {})])
    data = marketer_client.post(reverse(PREVIEW), {"body": "{{ city }}", "recipient_lists": [first.pk, second.pk]})
    assert data.json()["recipients"] == 2
    assert [(w["variable"], w["missing"]) for w in data.json()["variable_warnings"]] == [("city", 1)]


# --- Save and schedule ---------------------------------------------------------------------


def test_save_and_schedule_on_a_new_campaign_keeps_the_time_and_zone_typed(marketer_client) -> None:
    account = AccountFactory()
    lst = draft_with_recipients()[0].recipient_lists.get()
    data = builder_form_data(
        account=account.pk,
        recipient_lists=[lst.pk],
        scheduled_local="2031-01-15T09:00",
        timezone="America/New_York",
        _schedule="1",
    )
    response = marketer_client.post(reverse("admin:campaigns_campaign_add"), data)
    campaign = Campaign.objects.get(name="Winter sale")
    assert response.status_code == 302 and response.url == change_url(campaign)
    assert campaign.status == C.SCHEDULED
    assert campaign.scheduled_at == datetime(2031, 1, 15, 14, 0, tzinfo=UTC) and campaign.timezone == "America/New_York"
    assert "Saved and scheduled for 2031-01-15 09:00 America/New_York." in flash_messages(
        marketer_client.get(response.url)
    )


def test_schedule_without_a_time_keeps_the_input_and_says_what_is_missing(marketer_client) -> None:
    account = AccountFactory()
    data = builder_form_data(account=account.pk, name="Typed name", timezone="Asia/Tokyo", send_rate="7", _schedule="1")
    response = marketer_client.post(reverse("admin:campaigns_campaign_add"), data)
    assert response.status_code == 200 and not Campaign.objects.exists()
    page = response.content.decode()
    assert "Choose when to send: scheduling needs a date and time" in page
    assert 'value="Typed name"' in page and 'value="7"' in page
    assert '<option value="Asia/Tokyo" selected>' in page


def test_save_and_schedule_refused_by_the_service_leaves_a_saved_draft_with_its_time(marketer_client) -> None:
    campaign = CampaignFactory()  # no recipient lists: cannot be scheduled
    data = builder_form_data(campaign, scheduled_local="2031-06-01T10:30", timezone="Europe/Paris", _schedule="1")
    response = marketer_client.post(change_url(campaign), data)
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == C.DRAFT and campaign.timezone == "Europe/Paris"
    assert campaign.scheduled_at == datetime(2031, 6, 1, 8, 30, tzinfo=UTC)
    page = marketer_client.get(response.url)
    assert "Saved, but not scheduled: Choose at least one recipient list." in flash_messages(page)
    assert 'value="2031-06-01T10:30"' in page.content.decode()


def test_a_scheduled_campaign_cannot_lose_its_time_by_saving(marketer_client) -> None:
    campaign, _ = draft_with_recipients()
    campaign_actions.schedule(campaign=campaign, at=datetime(2031, 1, 1, 9, 0, tzinfo=UTC))
    response = marketer_client.post(change_url(campaign), builder_form_data(campaign, scheduled_local=""))
    assert response.status_code == 200 and "Keep a time: this campaign waits for it" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.scheduled_at == datetime(2031, 1, 1, 9, 0, tzinfo=UTC)
