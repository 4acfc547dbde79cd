"""The transport door: begin a batch, record results, store and apply receipts."""

from __future__ import annotations

import pytest
from django.test import override_settings

from campaigns.models import Message, MessagePart, Receipt, ReceiptState
from campaigns.services import campaign_actions as actions
from campaigns.services.dispatch import tick
from campaigns.services.receipts import ReceiptIn, apply_receipts, record_receipts
from campaigns.services.transport_api import SubmitOutcome, begin_submit, record_submit_results
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, RecipientListFactory

pytestmark = pytest.mark.django_db


def two_segments(body: str) -> int:
    return 2


def _queued(n: int = 3, body: str = "Hello"):
    lst = RecipientListFactory()
    for i in range(n):
        ContactFactory(recipient_list=lst, phone=f"+4479111{i:05d}")
    campaign = CampaignFactory(account=AccountFactory(), body=body)
    campaign.recipient_lists.add(lst)
    actions.send_now(campaign=campaign)
    batches = tick(enqueue=lambda b: None)
    global CLAIM
    CLAIM = batches[0].claim
    return campaign, [i for b in batches for i in b.message_ids]


CLAIM = 0


def test_begin_submit_creates_one_part_per_segment_and_marks_submitting() -> None:
    campaign, ids = _queued()
    parts = begin_submit(message_ids=ids, claim=CLAIM, count_segments=two_segments)
    assert [(p.message_id, p.index, p.total) for p in parts] == [(i, k, 2) for i in ids for k in (1, 2)]
    assert set(MessagePart.objects.values_list("status", flat=True)) == {S.SUBMITTING}
    assert set(Message.objects.values_list("status", "segments")) == {(S.SUBMITTING, 2)}
    assert parts[0].sender == campaign.account.source_addr


def test_redelivered_batch_skips_accepted_and_marks_stuck_parts_unknown() -> None:
    _, ids = _queued(2)
    parts = begin_submit(message_ids=ids, claim=CLAIM, count_segments=lambda b: 1)
    record_submit_results(outcomes=[SubmitOutcome(parts[0].part_id, "accepted", "abc")])
    # The worker died before recording parts[1]: the batch is redelivered.
    again = begin_submit(message_ids=ids, claim=CLAIM, count_segments=lambda b: 1)
    assert again == []
    assert MessagePart.objects.get(id=parts[1].part_id).status == S.UNKNOWN
    assert MessagePart.objects.get(id=parts[0].part_id).status == S.ACCEPTED


def test_stale_batch_does_nothing() -> None:
    _, ids = _queued(1)
    assert begin_submit(message_ids=ids, claim=CLAIM + 1, count_segments=lambda b: 1) == []
    assert Message.objects.get().status == S.QUEUED


@override_settings(SUBMIT_AMBIGUOUS_POLICY="resend")
def test_resend_policy_sends_stuck_parts_again() -> None:
    _, ids = _queued(1)
    parts = begin_submit(message_ids=ids, claim=CLAIM, count_segments=lambda b: 1)
    again = begin_submit(message_ids=ids, claim=CLAIM, count_segments=lambda b: 1)
    assert [p.part_id for p in again] == [parts[0].part_id]


def test_results_recorded_in_bulk_with_each_outcome() -> None:
    _, ids = _queued(4)
    parts = begin_submit(message_ids=ids, claim=CLAIM, count_segments=lambda b: 1)
    record_submit_results(
        outcomes=[
            SubmitOutcome(parts[0].part_id, "accepted", "a1"),
            SubmitOutcome(parts[1].part_id, "failed", error_code=0x0B, error="ESME_RINVDSTADR"),
            SubmitOutcome(parts[2].part_id, "unknown"),
            SubmitOutcome(parts[3].part_id, "retry", error_code=0x58, error="ESME_RTHROTTLED"),
        ]
    )
    got = {p.id: (p.status, p.provider_message_id, p.error_code) for p in MessagePart.objects.all()}
    assert got[parts[0].part_id] == (S.ACCEPTED, "a1", None)
    assert got[parts[1].part_id] == (S.FAILED, None, 0x0B)
    assert got[parts[2].part_id][0] == S.UNKNOWN
    assert got[parts[3].part_id][0] == S.PENDING
    retried = Message.objects.get(id=parts[3].message_id)
    assert retried.status == S.PENDING and retried.not_before is not None
    assert Message.objects.get(id=parts[1].message_id).status == S.FAILED


def test_receipt_before_submit_resp_waits_then_applies_and_duplicates_change_nothing() -> None:
    campaign, ids = _queued(1)
    parts = begin_submit(message_ids=ids, claim=CLAIM, count_segments=lambda b: 1)
    account_id = campaign.account_id
    early = ReceiptIn(provider_message_id="ff01", status=S.DELIVERED, stat="DELIVRD", err="000")
    record_receipts(account_id=account_id, receipts=[early])
    assert apply_receipts() == 0  # the part has no provider id yet
    assert Receipt.objects.get().state == ReceiptState.PENDING
    record_submit_results(outcomes=[SubmitOutcome(parts[0].part_id, "accepted", "ff01")])
    assert apply_receipts() == 1
    record_receipts(account_id=account_id, receipts=[early, ReceiptIn("ff01", S.ACCEPTED, "ENROUTE")])
    assert apply_receipts() == 2
    part = MessagePart.objects.get()
    assert part.status == S.DELIVERED
    assert Message.objects.get().status == S.DELIVERED
    assert set(Receipt.objects.values_list("state", "part_id")) == {(ReceiptState.APPLIED, part.id)}


def test_multipart_message_rolls_up_when_all_parts_delivered() -> None:
    campaign, ids = _queued(1)
    parts = begin_submit(message_ids=ids, claim=CLAIM, count_segments=two_segments)
    record_submit_results(outcomes=[SubmitOutcome(p.part_id, "accepted", f"id{p.index}") for p in parts])
    record_receipts(account_id=campaign.account_id, receipts=[ReceiptIn("id1", S.DELIVERED)])
    apply_receipts()
    assert Message.objects.get().status == S.ACCEPTED
    record_receipts(account_id=campaign.account_id, receipts=[ReceiptIn("id2", S.UNDELIVERED, err="001")])
    apply_receipts()
    message = Message.objects.get()
    assert message.status == S.UNDELIVERED
    assert MessagePart.objects.get(index=2).error_code == 1


def test_release_unsent_returns_paused_parts_to_pending_and_cancels_cancelled() -> None:
    from campaigns.services.transport_api import release_unsent, running_campaigns

    campaign, ids = _queued(2)
    parts = begin_submit(message_ids=ids, claim=CLAIM, count_segments=lambda b: 1)
    assert running_campaigns([campaign.id]) == {campaign.id}
    actions.pause(campaign=campaign)
    assert running_campaigns([campaign.id]) == set()
    release_unsent(part_ids=[parts[0].part_id])
    assert MessagePart.objects.get(id=parts[0].part_id).status == S.PENDING
    assert Message.objects.get(id=parts[0].message_id).status == S.PENDING
    actions.cancel(campaign=campaign)
    release_unsent(part_ids=[parts[1].part_id])
    assert MessagePart.objects.get(id=parts[1].part_id).status == S.CANCELLED
    assert Message.objects.get(id=parts[1].message_id).status == S.CANCELLED


def test_unmatched_receipts_become_orphaned_after_the_ttl() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.services.receipts import orphan_stale_receipts

    campaign, _ = _queued(1)
    record_receipts(account_id=campaign.account_id, receipts=[ReceiptIn("nosuchid", S.DELIVERED, "DELIVRD")])
    assert orphan_stale_receipts() == 0  # young: may still match
    assert orphan_stale_receipts(now=timezone.now() + timedelta(hours=49)) == 1
    assert Receipt.objects.get().state == ReceiptState.ORPHANED
    assert apply_receipts() == 0


def test_a_receipt_resolves_an_unknown_part_by_its_handset() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.services.receipts import adopt_ambiguous_parts

    campaign, ids = _queued(2)
    parts = begin_submit(message_ids=ids, claim=CLAIM, count_segments=lambda b: 1)
    record_submit_results(outcomes=[SubmitOutcome(p.part_id, "unknown") for p in parts])  # answers lost
    phone = Message.objects.get(id=parts[0].message_id).phone
    receipt = ReceiptIn("77aa", S.DELIVERED, "DELIVRD", msisdn=phone.lstrip("+"))
    record_receipts(account_id=campaign.account_id, receipts=[receipt])
    assert apply_receipts() == 0
    assert adopt_ambiguous_parts() == 0  # too young: the normal match may still come
    assert adopt_ambiguous_parts(now=timezone.now() + timedelta(seconds=11)) == 1
    assert apply_receipts() == 1
    part = MessagePart.objects.get(id=parts[0].part_id)
    assert (part.status, part.provider_message_id) == (S.DELIVERED, "77aa")
    assert Message.objects.get(id=parts[0].message_id).status == S.DELIVERED
    assert MessagePart.objects.get(id=parts[1].part_id).status == S.UNKNOWN  # the other one stays
