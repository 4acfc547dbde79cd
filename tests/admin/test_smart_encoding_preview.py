"""Smart encoding in the builder: the preview shows the text as sent, what was replaced and
the segments saved; the cost estimate follows the campaign's option."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from campaigns.models import Contact, SegmentPrice
from campaigns.selectors_cost import estimated_cost
from tests.factories import AccountFactory, CampaignFactory, RecipientListFactory

pytestmark = pytest.mark.django_db
PREVIEW = "admin:campaigns_campaign_preview"
# 148 characters with a curly apostrophe and an em dash: 3 SMS in UCS-2, 1 in GSM.
BODY = "We\u2019re open late tonight \u2014 " * 5 + "x" * 13


def _list(n: int):
    lst = RecipientListFactory()
    Contact.objects.bulk_create(
        Contact(recipient_list=lst, phone=f"+4479111{i:05d}", first_name="Ann") for i in range(n)
    )
    return lst


def _preview(client, **data) -> dict:
    response = client.post(reverse(PREVIEW), {"channel": "sms", **data})
    assert response.status_code == 200
    return response.json()


def test_preview_shows_the_substituted_text_and_the_segments_saved(marketer_client) -> None:
    account = AccountFactory(binds=1, rate_per_bind=50)
    data = _preview(marketer_client, body=BODY, account=account.pk, recipient_lists=[_list(10).pk])
    assert data["encoding"] == "GSM-7" and data["ucs2_chars"] == []
    assert data["samples"][0]["text"] == BODY.replace("\u2019", "'").replace("\u2014", "-")
    assert data["segments"] == 1 and data["total_segments"] == 10
    smart = data["smart_encoding"]
    assert smart["applied"] and (smart["segments_before"], smart["segments_after"]) == (3, 1)
    assert smart["message"] == "Smart encoding: 3 → 1 segment per message."
    assert [(r["char"], r["to"], r["count"]) for r in smart["replaced"]] == [("\u2019", "'", 5), ("\u2014", "-", 5)]


def test_preview_with_smart_encoding_off_counts_ucs2_and_says_what_it_would_save(marketer_client) -> None:
    data = _preview(marketer_client, body=BODY, recipient_lists=[_list(10).pk], smart_encoding="0")
    assert data["encoding"] == "UCS-2" and data["segments"] == 3 and data["total_segments"] == 30
    assert data["samples"][0]["text"] == BODY
    assert not data["smart_encoding"]["applied"]
    assert data["smart_encoding"]["message"] == "Smart encoding is off; on, it would give 3 → 1 segment per message."


def test_preview_keeps_a_text_that_needs_ucs2_anyway(marketer_client) -> None:
    data = _preview(marketer_client, body="Don\u2019t miss it \U0001f600")
    assert data["encoding"] == "UCS-2" and data["samples"][0]["text"] == "Don\u2019t miss it \U0001f600"
    assert "UCS-2 anyway" in data["smart_encoding"]["message"]


def test_the_builder_shows_the_option_on_by_default(marketer_client) -> None:
    response = marketer_client.get(reverse("admin:campaigns_campaign_add"))
    assert b'name="smart_encoding"' in response.content
    assert b'id="id_smart_encoding" checked' in response.content


def test_cost_estimate_follows_the_option() -> None:
    account = AccountFactory()
    SegmentPrice.objects.create(account=account, country="", price=Decimal("0.01"), currency="EUR")
    lst = _list(4)
    smart = CampaignFactory(account=account, body=BODY)
    plain = CampaignFactory(account=account, body=BODY, smart_encoding=False)
    for campaign in (smart, plain):
        campaign.recipient_lists.add(lst)
    assert estimated_cost(smart).amount == Decimal("0.04")  # 4 × 1 segment
    assert estimated_cost(plain).amount == Decimal("0.12")  # 4 × 3 segments


def test_mms_preview_has_no_smart_encoding(marketer_client) -> None:
    data = _preview(marketer_client, body=BODY, channel="mms")
    assert data["smart_encoding"] is None and data["samples"][0]["text"] == BODY
