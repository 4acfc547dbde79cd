"""The transport door: send a batch (begin, chunks on the wire, record), receipts, recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from campaigns.models import BatchInFlight, Message, MessagePart, Receipt, ReceiptState
from campaigns.services import campaign_actions as actions
from campaigns.services.dispatch import recover_stalled, tick
from campaigns.services.receipts import ReceiptIn, apply_receipts, record_receipts
from campaigns.services.submit import (
    begin_submit,
    mark_on_wire,
    record_submit_results,
    release_unsent,
    running_campaigns,
    send_batch,
    split_chunk,
)
from campaigns.services.submit_writes import MAX_SUBMIT_ATTEMPTS
from campaigns.services.transport_api import SubmitOutcome
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, RecipientListFactory
from tests.senders import FakeSender, parts_of

pytestmark = pytest.mark.django_db


two_segments = parts_of(2)
one_segment = parts_of(1)


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


def _begin(ids, segment=one_segment):
    return begin_submit(message_ids=ids, claim=CLAIM, segment=segment)


def _accept_all(parts):
    return [SubmitOutcome(p, "accepted", f"id{p.message_id}.{p.index}") for p in parts]


def test_begin_submit_lists_every_segment_and_writes_nothing_per_message() -> None:
    campaign, ids = _queued()
    batch = _begin(ids, two_segments)
    assert [(p.message_id, p.index, p.total) for p in batch.parts] == [(i, k, 2) for i in ids for k in (1, 2)]
    assert batch.parts[0].sender == campaign.account.source_addr
    assert all(p.first_send for p in batch.parts)
    assert not MessagePart.objects.exists()  # parts are first written when answered
    assert set(Message.objects.values_list("status", flat=True)) == {S.QUEUED}
    row = BatchInFlight.objects.get(id=batch.id)
    assert (row.message_ids, row.on_wire, row.claim) == (ids, [], CLAIM)


def test_begin_submit_reads_no_secret_and_loads_no_field_lazily() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _, ids = _queued(4)
    with CaptureQueriesContext(connection) as begun:
        batch = _begin(ids)
    with CaptureQueriesContext(connection) as afterwards:
        texts = [(p.body, p.sender, p.sender_ton, p.validity, p.paced) for p in batch.parts]
    assert len(texts) == 4 and not afterwards.captured_queries  # every field a part needs was read
    sql = " ".join(q["sql"] for q in begun.captured_queries)
    assert "smpp_password" not in sql and "mm4_api_key" not in sql  # an account's secrets stay encrypted


def test_send_batch_records_answers_and_removes_its_batch_row() -> None:
    _, ids = _queued(5)
    chunks = []

    def send(parts):
        chunks.append([p.message_id for p in parts])
        assert BatchInFlight.objects.get().on_wire == [[p.message_id, p.index] for p in parts]
        return _accept_all(parts)

    counts = send_batch(message_ids=ids, claim=CLAIM, sender=FakeSender(chunk_size=2, send=send))
    assert counts == {"accepted": 5}
    assert chunks == [ids[0:2], ids[2:4], ids[4:5]]
    assert set(Message.objects.values_list("status", flat=True)) == {S.ACCEPTED}
    assert Message.objects.filter(submitted_at__isnull=True).count() == 0
    assert sorted(MessagePart.objects.values_list("provider_message_id", flat=True)) == sorted(f"id{i}.1" for i in ids)
    assert not BatchInFlight.objects.exists()


def test_a_chunk_never_splits_a_message() -> None:
    _, ids = _queued(3)
    parts = _begin(ids, parts_of(3)).parts
    first, rest = split_chunk(parts, 4)
    assert [p.key for p in first] == [(ids[0], 1), (ids[0], 2), (ids[0], 3), (ids[1], 1), (ids[1], 2), (ids[1], 3)]
    assert [p.message_id for p in rest] == [ids[2]] * 3


def test_redelivered_batch_settles_what_was_on_the_wire_and_sends_the_rest() -> None:
    _, ids = _queued(4)
    batch = _begin(ids)
    record_submit_results(batch_id=batch.id, outcomes=_accept_all(batch.parts[:1]))
    assert mark_on_wire(batch_id=batch.id, parts=batch.parts[1:3])
    # The worker died with parts 1 and 2 on the wire: the broker redelivers the batch.
    again = _begin(ids)
    assert [p.message_id for p in again.parts] == [ids[3]]  # never sent: sent now, once
    statuses = dict(Message.objects.values_list("id", "status"))
    assert [statuses[i] for i in ids] == [S.ACCEPTED, S.UNKNOWN, S.UNKNOWN, S.QUEUED]
    assert MessagePart.objects.get(message_id=ids[1]).error == "worker stopped before the SMSC answered"
    assert list(BatchInFlight.objects.values_list("id", flat=True)) == [again.id]
    # The first worker, if it is in fact alive, finds its batch taken over and stops.
    assert not mark_on_wire(batch_id=batch.id, parts=batch.parts[3:])


@override_settings(SUBMIT_AMBIGUOUS_POLICY="resend")
def test_resend_policy_sends_what_was_on_the_wire_again() -> None:
    _, ids = _queued(2)
    batch = _begin(ids)
    mark_on_wire(batch_id=batch.id, parts=batch.parts[:1])
    again = _begin(ids)
    assert [p.message_id for p in again.parts] == ids
    assert not MessagePart.objects.exists()


def test_stale_batch_does_nothing() -> None:
    _, ids = _queued(1)
    batch = begin_submit(message_ids=ids, claim=CLAIM + 1, segment=parts_of(1))
    assert (batch.id, batch.parts) == (None, [])
    assert Message.objects.get().status == S.QUEUED
    assert not BatchInFlight.objects.exists()


def test_results_recorded_in_bulk_with_each_outcome() -> None:
    _, ids = _queued(4)
    parts = _begin(ids).parts
    record_submit_results(
        batch_id=None,
        outcomes=[
            SubmitOutcome(parts[0], "accepted", "a1"),
            SubmitOutcome(parts[1], "failed", error_code=0x0B, error="ESME_RINVDSTADR"),
            SubmitOutcome(parts[2], "unknown"),
            SubmitOutcome(parts[3], "retry", error_code=0x58, error="ESME_RTHROTTLED"),
        ],
    )
    got = {p.message_id: (p.status, p.provider_message_id, p.error_code) for p in MessagePart.objects.all()}
    assert got[ids[0]] == (S.ACCEPTED, "a1", None)
    assert got[ids[1]] == (S.FAILED, None, 0x0B)
    assert got[ids[2]][0] == S.UNKNOWN
    assert got[ids[3]][0] == S.PENDING
    retried = Message.objects.get(id=ids[3])
    assert retried.status == S.PENDING and retried.not_before is not None and retried.claim is None
    assert Message.objects.get(id=ids[1]).status == S.FAILED
    with pytest.raises(ValueError, match="unknown submit outcomes"):
        record_submit_results(batch_id=None, outcomes=[SubmitOutcome(parts[0], "maybe")])


def test_a_retried_part_is_sent_again_alone_and_gives_up_after_the_last_attempt() -> None:
    _, ids = _queued(1)
    parts = _begin(ids, two_segments).parts
    record_submit_results(
        batch_id=None,
        outcomes=[SubmitOutcome(parts[0], "accepted", "p1"), SubmitOutcome(parts[1], "retry", error="ESME_RTHROTTLED")],
    )
    message = Message.objects.get()
    assert (message.status, message.segments) == (S.PENDING, 2)
    for attempt in range(2, MAX_SUBMIT_ATTEMPTS + 1):
        batches = tick(enqueue=lambda b: None, now=timezone.now() + timedelta(hours=attempt))
        again = begin_submit(message_ids=batches[0].message_ids, claim=batches[0].claim, segment=two_segments)
        assert [(p.index, p.total, p.first_send) for p in again.parts] == [(2, 2, False)]
        record_submit_results(batch_id=again.id, outcomes=[SubmitOutcome(again.parts[0], "retry", error="busy")])
    part = MessagePart.objects.get(index=2)
    assert (part.status, part.attempts) == (S.FAILED, MAX_SUBMIT_ATTEMPTS)
    assert part.error.startswith(f"gave up after {MAX_SUBMIT_ATTEMPTS} tries")
    assert Message.objects.get().status == S.FAILED
    assert MessagePart.objects.get(index=1).provider_message_id == "p1"  # untouched


def test_receipt_before_submit_resp_waits_then_applies_and_duplicates_change_nothing() -> None:
    campaign, ids = _queued(1)
    parts = _begin(ids).parts
    account_id = campaign.account_id
    early = ReceiptIn(provider_message_id="ff01", status=S.DELIVERED, stat="DELIVRD", err="000")
    record_receipts(account_id=account_id, receipts=[early])
    assert apply_receipts() == 0  # the part has no provider id yet
    assert Receipt.objects.get().state == ReceiptState.PENDING
    record_submit_results(batch_id=None, outcomes=[SubmitOutcome(parts[0], "accepted", "ff01")])
    assert apply_receipts() == 1
    record_receipts(account_id=account_id, receipts=[early, ReceiptIn("ff01", S.ACCEPTED, "ENROUTE")])
    assert apply_receipts() == 2
    part = MessagePart.objects.get()
    assert part.status == S.DELIVERED
    assert Message.objects.get().status == S.DELIVERED
    assert set(Receipt.objects.values_list("state", "part_id")) == {(ReceiptState.APPLIED, part.id)}


def test_multipart_message_rolls_up_when_all_parts_delivered() -> None:
    campaign, ids = _queued(1)
    parts = _begin(ids, two_segments).parts
    record_submit_results(batch_id=None, outcomes=[SubmitOutcome(p, "accepted", f"id{p.index}") for p in parts])
    record_receipts(account_id=campaign.account_id, receipts=[ReceiptIn("id1", S.DELIVERED)])
    apply_receipts()
    assert Message.objects.get().status == S.ACCEPTED
    record_receipts(account_id=campaign.account_id, receipts=[ReceiptIn("id2", S.UNDELIVERED, err="001")])
    apply_receipts()
    message = Message.objects.get()
    assert message.status == S.UNDELIVERED
    assert MessagePart.objects.get(index=2).error_code == 1


def test_release_unsent_returns_paused_messages_to_pending_and_cancels_cancelled() -> None:
    campaign, ids = _queued(2)
    batch = _begin(ids)
    assert running_campaigns([campaign.id]) == {campaign.id}
    actions.pause(campaign=campaign)
    assert running_campaigns([campaign.id]) == set()
    release_unsent(batch_id=batch.id, parts=batch.parts[:1])
    assert Message.objects.get(id=ids[0]).status == S.PENDING
    actions.cancel(campaign=campaign)
    release_unsent(batch_id=batch.id, parts=batch.parts[1:])
    assert Message.objects.get(id=ids[1]).status == S.CANCELLED
    assert not MessagePart.objects.exists()


def test_send_batch_stops_between_chunks_when_the_campaign_is_paused() -> None:
    campaign, ids = _queued(4)
    sent = []

    def send(parts):
        sent.extend(parts)
        actions.pause(campaign=campaign)  # takes effect before the next chunk
        return _accept_all(parts)

    counts = send_batch(message_ids=ids, claim=CLAIM, sender=FakeSender(chunk_size=2, send=send))
    assert counts == {"accepted": 2, "released": 2}
    statuses = dict(Message.objects.values_list("id", "status"))
    assert [statuses[i] for i in ids] == [S.ACCEPTED, S.ACCEPTED, S.PENDING, S.PENDING]


def test_parts_a_transport_could_not_send_are_handed_back() -> None:
    _, ids = _queued(3)
    counts = send_batch(
        message_ids=ids,
        claim=CLAIM,
        sender=FakeSender(chunk_size=3, send=lambda parts: _accept_all(parts[:1])),
    )  # e.g. the login was refused
    assert counts == {"accepted": 1, "released": 2}
    assert sorted(Message.objects.values_list("status", flat=True)) == [S.ACCEPTED, S.PENDING, S.PENDING]
    assert not BatchInFlight.objects.exists()


def test_sweeper_takes_over_a_silent_batch_and_leaves_a_live_one_alone() -> None:
    _, ids = _queued(4)
    now = timezone.now()
    batch = _begin(ids)
    mark_on_wire(batch_id=batch.id, parts=batch.parts[:1])
    Message.objects.update(updated_at=now - timedelta(seconds=60))  # queued for long: but held by a live batch
    assert recover_stalled(now=now) == 0
    assert set(Message.objects.values_list("status", flat=True)) == {S.QUEUED}
    later = now + timedelta(seconds=301)  # SUBMITTING_STALL_S of silence: the worker is gone
    assert recover_stalled(now=later) == 1 + 3  # one batch taken over, three messages released
    statuses = dict(Message.objects.values_list("id", "status"))
    assert [statuses[i] for i in ids] == [S.UNKNOWN, S.PENDING, S.PENDING, S.PENDING]
    assert not mark_on_wire(batch_id=batch.id, parts=batch.parts[1:])  # fenced off


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
    parts = _begin(ids).parts
    record_submit_results(batch_id=None, outcomes=[SubmitOutcome(p, "unknown") for p in parts])  # answers lost
    phone = Message.objects.get(id=parts[0].message_id).phone
    receipt = ReceiptIn("77aa", S.DELIVERED, "DELIVRD", msisdn=phone.lstrip("+"))
    record_receipts(account_id=campaign.account_id, receipts=[receipt])
    assert apply_receipts() == 0
    assert adopt_ambiguous_parts() == 0  # too young: the normal match may still come
    assert adopt_ambiguous_parts(now=timezone.now() + timedelta(seconds=11)) == 1
    assert apply_receipts() == 1
    part = MessagePart.objects.get(message_id=parts[0].message_id)
    assert (part.status, part.provider_message_id) == (S.DELIVERED, "77aa")
    assert Message.objects.get(id=parts[0].message_id).status == S.DELIVERED
    assert MessagePart.objects.get(message_id=parts[1].message_id).status == S.UNKNOWN  # the other one stays


def test_receipts_alone_are_stored_in_one_statement_and_with_mo_in_one_transaction() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campaigns.models import InboundMessage
    from campaigns.services.transport_api import InboundIn, ReceiptIn, record_deliveries

    account = AccountFactory()
    receipts = [ReceiptIn(provider_message_id=f"r{i}", status=S.DELIVERED, stat="DELIVRD") for i in range(3)]
    with CaptureQueriesContext(connection) as stored:
        record_deliveries(account_id=account.id, receipts=receipts, inbound=[])
    assert [q["sql"].split()[0] for q in stored.captured_queries] == ["INSERT"]  # no transaction around it
    assert Receipt.objects.filter(account=account, state=ReceiptState.PENDING).count() == 3
    with CaptureQueriesContext(connection) as both:
        record_deliveries(
            account_id=account.id, receipts=receipts[:1], inbound=[InboundIn("+447700900001", "Bench", "STOP", 0)]
        )
    assert both.captured_queries[0]["sql"].startswith("SAVEPOINT")  # together, or not at all
    assert Receipt.objects.count() == 4 and InboundMessage.objects.count() == 1
