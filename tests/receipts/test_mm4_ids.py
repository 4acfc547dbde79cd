"""The domain side of MM4 report matching: every MMS part keeps two ids and a receipt matches either.

Ours (``local_message_id``, the X-Mms-Message-ID the transport names the part with before it
goes on the wire) and the provider's (``provider_message_id``, from ``250 queued as``). A
3GPP TS 23.140 report names ours; some MMSCs name theirs. Real PostgreSQL, no transport.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import BatchInFlight, Message, MessagePart, Receipt, ReceiptState
from campaigns.services import campaign_actions as actions
from campaigns.services.dispatch import tick
from campaigns.services.receipts import ReceiptIn, apply_receipts, orphan_stale_receipts, record_receipts
from campaigns.services.submit import begin_submit, mark_on_wire, record_submit_results, send_batch
from campaigns.services.transport_api import SubmitOutcome
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, RecipientListFactory
from tests.senders import FakeSender, parts_of

pytestmark = pytest.mark.django_db


def _claimed(n: int):
    """A running campaign of ``n`` recipients, claimed by one tick: (account id, message ids, claim)."""
    lst = RecipientListFactory()
    for i in range(n):
        ContactFactory(recipient_list=lst, phone=f"+4479111{i:05d}")
    campaign = CampaignFactory(account=AccountFactory(), body="Hello")
    campaign.recipient_lists.add(lst)
    actions.send_now(campaign=campaign)
    [batch] = tick(enqueue=lambda b: None)
    return campaign.account_id, batch.message_ids, batch.claim


def ours(part) -> str:
    return f"{part.message_id}.{part.index}.cafe@mms.example.com"


def mm4(referenced: str, status: str = S.DELIVERED, **kw) -> ReceiptIn:
    return ReceiptIn(referenced, status, "Retrieved", channel="mm4", **kw)


def test_each_part_is_named_before_the_wire_and_keeps_both_ids() -> None:
    _, ids, claim = _claimed(4)
    seen_on_wire = []

    def send(parts):
        seen_on_wire.append(BatchInFlight.objects.get().on_wire)
        answers = ["accepted", "unknown", "failed", "retry"]
        pairs = zip(parts, answers, strict=True)
        return [SubmitOutcome(p, a, f"Q{p.message_id}" if a == "accepted" else None) for p, a in pairs]

    counts = send_batch(message_ids=ids, claim=claim, sender=FakeSender(chunk_size=10, send=send, local_id=ours))
    assert counts == {"accepted": 1, "unknown": 1, "failed": 1, "retry": 1}
    # The names are on record before anything is written to the provider...
    assert seen_on_wire == [[[i, 1, f"{i}.1.cafe@mms.example.com"] for i in ids]]
    got = {p.message_id: (p.status, p.provider_message_id, p.local_message_id) for p in MessagePart.objects.all()}
    # ...and stay on the part, whatever the answer; a retried part is named afresh when resent.
    assert got == {
        ids[0]: (S.ACCEPTED, f"Q{ids[0]}", f"{ids[0]}.1.cafe@mms.example.com"),
        ids[1]: (S.UNKNOWN, None, f"{ids[1]}.1.cafe@mms.example.com"),
        ids[2]: (S.FAILED, None, f"{ids[2]}.1.cafe@mms.example.com"),
        ids[3]: (S.PENDING, None, None),
    }


def test_an_sms_batch_has_no_local_ids_and_its_on_wire_list_is_unchanged() -> None:
    _, ids, claim = _claimed(2)

    def send(parts):
        assert BatchInFlight.objects.get().on_wire == [[p.message_id, p.index] for p in parts]
        return [SubmitOutcome(p, "accepted", f"s{p.message_id}") for p in parts]

    send_batch(message_ids=ids, claim=claim, sender=FakeSender(chunk_size=10, send=send))
    assert set(MessagePart.objects.values_list("local_message_id", flat=True)) == {None}


def test_a_report_matches_by_our_id_or_the_provider_s_and_only_once_by_both() -> None:
    account_id, ids, claim = _claimed(4)
    parts = [
        replace(p, local_message_id=ours(p))
        for p in begin_submit(message_ids=ids, claim=claim, segment=parts_of(1)).parts
    ]
    same = ours(parts[2])  # an MMSC that answers "queued as" with the id we sent
    provider_ids = ["q0", "q1", same, "q3"]
    record_submit_results(
        batch_id=None, outcomes=[SubmitOutcome(p, "accepted", q) for p, q in zip(parts, provider_ids, strict=True)]
    )
    record_receipts(
        account_id=account_id,
        receipts=[
            mm4(ours(parts[0])),  # the standard way: the X-Mms-Message-ID we sent
            mm4("q1", S.EXPIRED),  # the queued-as id
            mm4(same, S.REJECTED),  # both ids of one part
            ReceiptIn(ours(parts[3]), S.DELIVERED, "DELIVRD"),  # an SMS receipt never matches our MMS id
        ],
    )
    assert apply_receipts() == 3
    statuses = dict(MessagePart.objects.values_list("message_id", "status"))
    assert [statuses[i] for i in ids] == [S.DELIVERED, S.EXPIRED, S.REJECTED, S.ACCEPTED]
    assert dict(Message.objects.values_list("id", "status"))[ids[0]] == S.DELIVERED
    linked = dict(Receipt.objects.filter(state=ReceiptState.APPLIED).values_list("provider_message_id", "part_id"))
    by_message = dict(MessagePart.objects.values_list("message_id", "id"))
    assert linked == {ours(parts[0]): by_message[ids[0]], "q1": by_message[ids[1]], same: by_message[ids[2]]}
    assert Receipt.objects.get(channel="smpp").state == ReceiptState.PENDING
    # Forward-only by either id: a late MM4_forward.RES (accepted) changes nothing.
    record_receipts(account_id=account_id, receipts=[mm4(ours(parts[1]), S.ACCEPTED), mm4("q0", S.ACCEPTED)])
    assert apply_receipts() == 2
    assert dict(MessagePart.objects.values_list("message_id", "status"))[ids[1]] == S.EXPIRED


def test_a_report_that_beats_the_answer_waits_and_matches_by_our_id() -> None:
    account_id, ids, claim = _claimed(1)
    [part] = begin_submit(message_ids=ids, claim=claim, segment=parts_of(1)).parts
    part = replace(part, local_message_id=ours(part))
    record_receipts(account_id=account_id, receipts=[mm4(ours(part))])
    assert apply_receipts() == 0  # no part row yet: it waits in the inbox
    record_submit_results(batch_id=None, outcomes=[SubmitOutcome(part, "accepted", "q9")])
    assert apply_receipts() == 1
    assert MessagePart.objects.get().status == S.DELIVERED


def test_an_mms_whose_worker_died_on_the_wire_is_settled_by_a_standard_report() -> None:
    account_id, ids, claim = _claimed(2)
    batch = begin_submit(message_ids=ids, claim=claim, segment=parts_of(1))
    named = [replace(p, local_message_id=ours(p)) for p in batch.parts]
    assert mark_on_wire(batch_id=batch.id, parts=named)
    # The worker dies: the broker redelivers the batch, which settles the on-wire parts as unknown.
    begin_submit(message_ids=ids, claim=claim, segment=parts_of(1))
    part = MessagePart.objects.get(message_id=ids[0])
    assert (part.status, part.provider_message_id, part.local_message_id) == (S.UNKNOWN, None, ours(named[0]))
    # The id went out with the message, so the provider's standard report still finds it.
    record_receipts(account_id=account_id, receipts=[mm4(ours(named[0]))])
    assert apply_receipts() == 1
    assert MessagePart.objects.get(message_id=ids[0]).status == S.DELIVERED
    assert Message.objects.get(id=ids[0]).status == S.DELIVERED


def test_informational_receipts_are_kept_and_never_move_a_part() -> None:
    account_id, ids, claim = _claimed(1)
    [part] = begin_submit(message_ids=ids, claim=claim, segment=parts_of(1)).parts
    part = replace(part, local_message_id=ours(part))
    record_submit_results(batch_id=None, outcomes=[SubmitOutcome(part, "accepted", "q1")])
    read_reply = ReceiptIn(ours(part), S.DELIVERED, "Read", channel="mm4", informational=True)
    record_receipts(account_id=account_id, receipts=[read_reply])
    row = Receipt.objects.get()
    assert (row.state, row.status, row.stat) == (ReceiptState.INFO, "", "Read")
    assert apply_receipts() == 0
    assert orphan_stale_receipts(now=timezone.now() + timedelta(days=3)) == 0  # not an orphan either
    assert MessagePart.objects.get().status == S.ACCEPTED
    assert Receipt.objects.get().state == ReceiptState.INFO
