"""Helpers for the marketer-checks admin tests (issue 14, section 4): contacts on a list, the
campaign admin's URLs and actions, flashed messages, and the builder's POST as the browser sends it."""

from __future__ import annotations

from django.urls import reverse

from campaigns.models import Campaign, Contact, RecipientList
from tests.factories import CampaignFactory, RecipientListFactory

PREVIEW = "admin:campaigns_campaign_preview"
BODY = "Hi {{ first_name }} from {{ city }}!"


def add_contacts(lst: RecipientList, rows: list[tuple[str, str, dict]]) -> list[Contact]:
    return Contact.objects.bulk_create(
        Contact(recipient_list=lst, phone=phone, first_name=first, attributes=attrs) for phone, first, attrs in rows
    )


def change_url(campaign: Campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def post_action(client, campaign: Campaign, name: str, **data):
    return client.post(reverse("admin:campaigns_campaign_action", args=[campaign.pk, name]), data)


def flash_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def builder_form_data(campaign: Campaign | None = None, **overrides) -> dict:
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


def draft_with_recipients() -> tuple[Campaign, list[Contact]]:
    lst = RecipientListFactory()
    contacts = add_contacts(lst, [("+447911100001", "Ann", {"city": "Leeds"}), ("+447911100002", "Bob", {})])
    campaign = CampaignFactory(body=BODY)
    campaign.recipient_lists.add(lst)
    return campaign, contacts
