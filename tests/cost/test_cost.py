"""Cost: prices per segment per account (per country), the estimate, the spent cost, the
stats API's fields, the builder's preview and the report page's line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.models import CampaignStatus, Contact, Message, MessagePart, SegmentPrice
from campaigns.selectors_cost import cost_by_country, country_of, estimated_cost, spent_cost
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, RecipientListFactory

pytestmark = pytest.mark.django_db

UK, DE, US = "+447400", "+4915112", "+1212555"


def _messages(campaign, rows):
    """rows: (phone, message status, segments, [part statuses])."""
    for phone, status, segments, parts in rows:
        message = Message.objects.create(campaign=campaign, phone=phone, status=status, segments=segments)
        MessagePart.objects.bulk_create(
            MessagePart(message=message, account=campaign.account, index=i + 1, status=s) for i, s in enumerate(parts)
        )


def _priced_campaign(**prices):
    account = AccountFactory()
    for country, price in prices.items():
        SegmentPrice.objects.create(
            account=account, country="" if country == "default" else country, price=Decimal(price), currency="EUR"
        )
    return CampaignFactory(account=account)


def test_country_of_numbers() -> None:
    assert [country_of(p) for p in ("+447400123456", "+4915112345678", "+12125550100", "+14165550100")] == [
        "GB",
        "DE",
        "US",
        "CA",
    ]
    assert country_of("+447911123456") == "GG"  # Guernsey: same code, its own price
    assert country_of("+999123") == "ZZ"


def test_spent_counts_accepted_segments_at_the_country_price() -> None:
    campaign = _priced_campaign(default="0.01", GB="0.0035")
    _messages(
        campaign,
        [
            (UK + "000001", S.DELIVERED, 2, [S.DELIVERED, S.DELIVERED]),
            (UK + "000002", S.UNDELIVERED, 1, [S.UNDELIVERED]),  # accepted, then lost: billed
            (UK + "000003", S.FAILED, 2, [S.ACCEPTED, S.FAILED]),  # one part accepted: billed
            (DE + "000004", S.DELIVERED, 1, [S.DELIVERED]),
            (DE + "000005", S.SUPPRESSED, 1, []),
            (US + "0106", S.PENDING, 3, []),
        ],
    )
    assert spent_cost(campaign).amount == Decimal("0.0035") * 4 + Decimal("0.01")
    assert spent_cost(campaign).currency == "EUR"
    assert cost_by_country(campaign) == {"GB": Decimal("0.0035") * 4, "DE": Decimal("0.01")}
    # estimated: every segment not suppressed/cancelled/failed: GB 3, DE 1, US 3
    assert estimated_cost(campaign).amount == Decimal("0.0035") * 3 + Decimal("0.01") * 4


def test_no_price_is_none_and_a_country_without_price_or_default_too() -> None:
    campaign = CampaignFactory()
    _messages(campaign, [(UK + "000001", S.DELIVERED, 1, [S.DELIVERED])])
    assert spent_cost(campaign) is None and estimated_cost(campaign) is None and cost_by_country(campaign) == {}
    only_de = _priced_campaign(DE="0.02")
    _messages(only_de, [(UK + "000001", S.DELIVERED, 1, [S.DELIVERED]), (DE + "000001", S.DELIVERED, 1, [S.DELIVERED])])
    assert spent_cost(only_de) is None  # a partial sum would mislead
    assert cost_by_country(only_de) == {"DE": Decimal("0.02")}


def test_before_materialising_the_estimate_is_recipients_times_segments() -> None:
    campaign = _priced_campaign(default="0.01")
    campaign.body = "x" * 200  # 2 segments
    campaign.save()
    lst = RecipientListFactory()
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=f"{UK}{i:06d}") for i in range(5))
    campaign.recipient_lists.add(lst)
    assert estimated_cost(campaign).amount == Decimal("0.10")


def test_one_currency_per_account() -> None:
    account = AccountFactory()
    SegmentPrice.objects.create(account=account, country="", price=Decimal("0.01"), currency="EUR")
    with pytest.raises(ValidationError, match="use one currency"):
        SegmentPrice(account=account, country="GB", price=Decimal("0.01"), currency="GBP").full_clean()


def test_stats_api_has_cost_as_decimal_strings(viewer) -> None:
    campaign = _priced_campaign(default="0.0035")
    _messages(campaign, [(UK + "000001", S.DELIVERED, 2, [S.DELIVERED, S.DELIVERED]), (UK + "000002", S.QUEUED, 1, [])])
    stats = viewer.get(f"/api/v1/campaigns/{campaign.id}/stats/").json()
    assert stats["spent_cost"] == {"amount": "0.0070", "currency": "EUR"}
    assert stats["estimated_cost"] == {"amount": "0.0105", "currency": "EUR"}
    unpriced = viewer.get(f"/api/v1/campaigns/{CampaignFactory().id}/stats/").json()
    assert unpriced["spent_cost"] is None and unpriced["estimated_cost"] is None


def test_schema_documents_the_cost_fields(viewer) -> None:
    schema = viewer.get("/api/schema/?format=json").json()
    stats = schema["components"]["schemas"]["CampaignStats"]["properties"]
    assert {"estimated_cost", "spent_cost"} <= set(stats)


def test_a_completed_campaigns_cost_is_cached_and_final() -> None:
    campaign = _priced_campaign(default="1")
    _messages(campaign, [(UK + "000001", S.DELIVERED, 1, [S.DELIVERED])])
    campaign.status = CampaignStatus.COMPLETED
    campaign.save()
    assert spent_cost(campaign).amount == 1
    _messages(campaign, [(UK + "000002", S.DELIVERED, 1, [S.DELIVERED])])  # cannot happen; shows the cache
    assert spent_cost(campaign).amount == 1


def test_builder_preview_shows_the_estimated_cost(marketer_client) -> None:
    campaign = _priced_campaign(default="0.05", DE="0.10")
    lst = RecipientListFactory()
    Contact.objects.bulk_create(
        [
            *(Contact(recipient_list=lst, phone=f"{UK}{i:06d}") for i in range(10)),
            Contact(recipient_list=lst, phone=DE + "000001"),
        ]
    )
    data = marketer_client.post(
        reverse("admin:campaigns_campaign_preview"),
        {"channel": "sms", "body": "Hi", "account": campaign.account_id, "recipient_lists": [lst.pk]},
    ).json()
    assert data["estimated_cost"] == "0.6000 EUR"
    unpriced = marketer_client.post(
        reverse("admin:campaigns_campaign_preview"),
        {"channel": "sms", "body": "Hi", "account": AccountFactory().pk, "recipient_lists": [lst.pk]},
    ).json()
    assert unpriced["estimated_cost"] is None


def test_report_page_shows_spent_and_estimated_cost(marketer_client) -> None:
    campaign = _priced_campaign(default="2")
    _messages(campaign, [(UK + "000001", S.DELIVERED, 1, [S.DELIVERED]), (UK + "000002", S.QUEUED, 1, [])])
    line = marketer_client.get(reverse("admin:campaigns_campaign_report_cost", args=[campaign.pk])).content.decode()
    assert 'data-figure="spent-cost">2.00 EUR<' in line and 'data-figure="estimated-cost">4.00 EUR<' in line
    bare = marketer_client.get(reverse("admin:campaigns_campaign_report_cost", args=[CampaignFactory().pk]))
    assert "No price per segment" in bare.content.decode()


def test_operators_edit_prices_in_the_admin_marketers_only_read(operator_client, marketer_client) -> None:
    account = AccountFactory()
    response = operator_client.post(
        reverse("admin:campaigns_segmentprice_add"),
        {"account": account.pk, "country": "GB", "price": "0.0035", "currency": "GBP"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert SegmentPrice.objects.get(account=account).country == "GB"
    listing = operator_client.get(reverse("admin:campaigns_segmentprice_changelist")).content.decode()
    assert "United Kingdom (GB)" in listing
    assert marketer_client.get(reverse("admin:campaigns_segmentprice_changelist")).status_code == 200
    assert marketer_client.get(reverse("admin:campaigns_segmentprice_add")).status_code == 403


def test_one_price_for_every_country_needs_no_grouping_and_agrees(django_assert_max_num_queries) -> None:
    flat = _priced_campaign(default="0.01")
    rows = [
        (UK + "000001", S.DELIVERED, 2, [S.DELIVERED, S.DELIVERED]),
        (DE + "000002", S.FAILED, 3, [S.ACCEPTED, S.ACCEPTED, S.FAILED]),
        (US + "0103", S.QUEUED, 1, []),
    ]
    _messages(flat, rows)
    assert spent_cost(flat).amount == Decimal("0.04")  # 2 + the 2 accepted parts of the failed one
    assert estimated_cost(flat).amount == Decimal("0.03")  # delivered 2 + queued 1 (failed: not sending)
    grouped = _priced_campaign(default="0.01", FR="0.5")  # a country price: grouped by number
    _messages(grouped, rows)
    assert spent_cost(grouped).amount == Decimal("0.04") and estimated_cost(grouped).amount == Decimal("0.03")
