"""Materialisation: set-based, idempotent, deduplicated, suppressing opt-outs and bad numbers."""

from __future__ import annotations

import pytest

from campaigns.models import Contact, Message
from campaigns.services.materialise import REASON_INVALID, REASON_OPTED_OUT, materialise_recipients
from campaigns.statuses import MessageStatus as S
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    OptOutFactory,
    RecipientListFactory,
)

pytestmark = pytest.mark.django_db


def _campaign_with(*lists):
    campaign = CampaignFactory()
    campaign.recipient_lists.set(lists)
    return campaign


def test_overlapping_lists_give_one_message_per_phone_and_rerun_is_noop() -> None:
    a, b = RecipientListFactory(), RecipientListFactory()
    shared = "+447911100001"
    first = ContactFactory(recipient_list=a, phone=shared, first_name="A")
    ContactFactory(recipient_list=b, phone=shared, first_name="B")
    ContactFactory(recipient_list=a, phone="+447911100002")
    ContactFactory(recipient_list=b, phone="+447911100003")
    campaign = _campaign_with(a, b)
    assert materialise_recipients(campaign=campaign) == 3
    assert materialise_recipients(campaign=campaign) == 0
    messages = Message.objects.filter(campaign=campaign)
    assert messages.count() == 3
    assert messages.get(phone=shared).contact_id == first.id  # the lowest contact id wins
    assert set(messages.values_list("status", flat=True)) == {S.PENDING}


def test_opt_outs_global_and_per_account_are_suppressed_with_reason() -> None:
    lst = RecipientListFactory()
    campaign = _campaign_with(lst)
    other_account = AccountFactory()
    ContactFactory(recipient_list=lst, phone="+447911100011")
    ContactFactory(recipient_list=lst, phone="+447911100012")
    ContactFactory(recipient_list=lst, phone="+447911100013")
    OptOutFactory(phone="+447911100011", account=None)
    OptOutFactory(phone="+447911100012", account=campaign.account)
    OptOutFactory(phone="+447911100013", account=other_account)  # another account: still sent
    materialise_recipients(campaign=campaign)
    statuses = dict(Message.objects.filter(campaign=campaign).values_list("phone", "status"))
    assert statuses == {
        "+447911100011": S.SUPPRESSED,
        "+447911100012": S.SUPPRESSED,
        "+447911100013": S.PENDING,
    }
    assert set(Message.objects.filter(campaign=campaign, status=S.SUPPRESSED).values_list("reason", flat=True)) == {
        REASON_OPTED_OUT
    }


def test_invalid_numbers_become_suppressed_messages() -> None:
    lst = RecipientListFactory()
    # Rows inserted around the import validation (e.g. raw SQL): still never sent.
    Contact.objects.bulk_create(
        [Contact(recipient_list=lst, phone="07911 100000"), Contact(recipient_list=lst, phone="+12")]
    )
    ContactFactory(recipient_list=lst, phone="+447911100021")
    campaign = _campaign_with(lst)
    materialise_recipients(campaign=campaign)
    rows = dict(Message.objects.filter(campaign=campaign).values_list("phone", "reason"))
    assert rows == {"07911 100000": REASON_INVALID, "+12": REASON_INVALID, "+447911100021": ""}


def test_static_body_is_stored_and_personalised_body_is_deferred() -> None:
    lst = RecipientListFactory()
    ContactFactory(recipient_list=lst)
    static = _campaign_with(lst)
    static.body = "Sale today"
    static.save()
    materialise_recipients(campaign=static)
    assert Message.objects.get(campaign=static).body == "Sale today"


@pytest.mark.parametrize(
    "phone",
    [
        "+447911100001",
        "+1234567",
        "+123456",
        "+0123456789",
        "447911100001",
        "+44 7911",
        "+4479a1",
        "+" + "1" * 15,
        "+" + "1" * 16,
        "",
        "+",
    ],
)
def test_sql_e164_check_agrees_with_the_pattern(phone: str) -> None:
    import re

    from django.db import connection

    from campaigns.services.materialise import E164_CHECK, E164_PATTERN

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT CASE WHEN {E164_CHECK} THEN 1 ELSE 0 END FROM (SELECT %s AS phone) t", [phone])
        assert bool(cursor.fetchone()[0]) == bool(re.match(E164_PATTERN, phone))
