"""record_receipts(authenticated=False): a report from a source that did not prove it speaks for
the account (an MM4 receiver run without AUTH for a local demo) may settle a part that has its
answer, but never wait for one that has not: it could be planted for the next provider id.
Real PostgreSQL, no transport (the receiver tests send the same over SMTP)."""

from __future__ import annotations

import pytest

from campaigns.models import Message, MessagePart, Receipt, ReceiptState
from campaigns.services.receipts import ReceiptIn, apply_receipts, record_receipts
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _part(account, phone: str, status: str, provider_id: str | None, local_id: str | None) -> MessagePart:
    message = Message.objects.create(campaign=CampaignFactory(account=account), phone=phone, status=status)
    return MessagePart.objects.create(
        message=message, account=account, status=status, provider_message_id=provider_id, local_message_id=local_id
    )


def mm4(referenced: str, status: str = S.REJECTED) -> ReceiptIn:
    return ReceiptIn(referenced, status, "Rejected", channel="mm4")


def test_only_answered_ids_wait_and_everything_else_is_orphaned_at_once() -> None:
    account, other = AccountFactory(), AccountFactory()
    answered = _part(account, "+447700900001", S.ACCEPTED, "q100", "ours-1@x")
    on_wire = _part(account, "+447700900002", S.QUEUED, None, "ours-2@x")  # named, no answer yet
    _part(other, "+447700900003", S.ACCEPTED, "q200", "ours-3@x")  # another account's
    stored = record_receipts(
        account_id=account.id,
        authenticated=False,
        receipts=[
            mm4("q100"),  # the provider id of an answered part
            mm4("ours-1@x"),  # our id of an answered part
            mm4("ours-2@x"),  # our id of a part still on the wire: could be ahead of its answer
            mm4("q101"),  # the next provider id: not given to anyone yet
            mm4("q200"),  # another account's id
            ReceiptIn("q101", "", "Read", channel="mm4", informational=True),  # kept as info, as always
        ],
    )
    assert stored == 6
    states = dict(Receipt.objects.values_list("provider_message_id", "state").exclude(state=ReceiptState.INFO))
    assert states == {
        "q100": ReceiptState.PENDING,
        "ours-1@x": ReceiptState.PENDING,
        "ours-2@x": ReceiptState.ORPHANED,
        "q101": ReceiptState.ORPHANED,
        "q200": ReceiptState.ORPHANED,
    }
    assert Receipt.objects.filter(state=ReceiptState.INFO).count() == 1
    # The part on the wire gets its answer (q101): the orphaned reports stay orphaned.
    MessagePart.objects.filter(id=on_wire.id).update(status=S.ACCEPTED, provider_message_id="q101")
    assert apply_receipts() == 2  # q100 and ours-1@x, both for the answered part
    on_wire.refresh_from_db()
    answered.refresh_from_db()
    assert (on_wire.status, answered.status) == (S.ACCEPTED, S.REJECTED)


def test_an_authenticated_report_still_waits_for_its_answer() -> None:
    account = AccountFactory()
    part = _part(account, "+447700900001", S.QUEUED, None, "ours-1@x")
    record_receipts(account_id=account.id, receipts=[mm4("q555", S.DELIVERED)])  # authenticated by default
    assert Receipt.objects.get().state == ReceiptState.PENDING
    MessagePart.objects.filter(id=part.id).update(status=S.ACCEPTED, provider_message_id="q555")
    assert apply_receipts() == 1
    part.refresh_from_db()
    assert part.status == S.DELIVERED
