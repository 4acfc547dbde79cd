"""Nothing an SMSC answers may make the recording of answers fail (issue 15, finding 3).

Real sockets to the project's SMSC simulator, told to misbehave: message ids longer than
SMPP 3.4's 64 characters, a command_status beyond a signed 32-bit integer, receipts whose
err does not fit an integer column, NUL bytes in receipt and MO text. Every other message
of the batch is recorded normally, nothing stays queued, and the receipt inbox keeps
acknowledging.
"""

from __future__ import annotations

import pytest

from campaigns.models import PROVIDER_ID_MAX_LENGTH, InboundMessage, Message, MessagePart, Receipt, ReceiptState
from campaigns.services.receipts import apply_receipts
from campaigns.statuses import MessageStatus as S
from smpp_transport import worker
from smpp_transport.bind import InboundPdu
from smpp_transport.inbox_writer import InboxWriter
from tests.e2e.harness import wait_until
from tests.factories import AccountFactory
from tests.receipts.test_receipt_path import _account, _campaign, _send_all, _sid, _statuses, sim_factory

__all__ = ["sim_factory"]  # the fixture, imported for this module's tests

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

WIDE = 80  # over SMPP's 64, within the stored width: kept, and its receipt matches
TOO_LONG = PROVIDER_ID_MAX_LENGTH + 45  # beyond even the stored width


def _part(campaign, phone: str) -> MessagePart:
    return MessagePart.objects.select_related("message").get(message__campaign=campaign, message__phone=phone)


def test_over_long_ids_and_out_of_range_statuses_are_recorded_on_their_part_only(sim_factory) -> None:
    system_id = _sid()
    sim = sim_factory(
        system_id,
        outcomes={"DELIVRD": 100},
        long_id_destinations={"447911100002": WIDE, "447911100004": TOO_LONG},
        reject_destinations={"447911100006": 0xFFFFFFFF},
    )
    account = _account(sim, system_id)
    worker.open_bind(system_id, "trx")
    campaign = _campaign(account, 8)  # one chunk: the long ids share it with good parts

    _send_all(campaign)

    statuses = _statuses(campaign)
    assert S.QUEUED not in statuses and S.PENDING not in statuses, statuses
    wide = _part(campaign, "+447911100002")
    assert wide.status == S.ACCEPTED and len(wide.provider_message_id) == WIDE
    too_long = _part(campaign, "+447911100004")
    assert too_long.status == S.UNKNOWN and too_long.provider_message_id is None
    assert "too long" in too_long.error and str(TOO_LONG) in too_long.error
    assert too_long.submitted_at is not None
    odd_status = _part(campaign, "+447911100006")
    assert odd_status.status == S.FAILED and odd_status.error_code is None
    assert "0xFFFFFFFF" in odd_status.error

    def settled() -> bool:
        apply_receipts()
        return _statuses(campaign).get(S.DELIVERED, 0) == 6

    wait_until(settled, timeout=30, what=f"6 delivered, have {_statuses(campaign)}")
    assert _statuses(campaign) == {S.DELIVERED: 6, S.UNKNOWN: 1, S.FAILED: 1}
    wide.refresh_from_db()
    assert wide.status == S.DELIVERED  # the 80-character id matched its receipt
    # The over-long id's receipt is kept for the record, never matched.
    wait_until(lambda: Receipt.objects.count() == 7, timeout=10, what="7 receipts stored")
    orphan = Receipt.objects.get(state=ReceiptState.ORPHANED)
    assert len(orphan.provider_message_id) == PROVIDER_ID_MAX_LENGTH
    assert Receipt.objects.filter(state=ReceiptState.APPLIED).count() == 6
    assert sim.counters["receipts_acked"] == 7


def test_receipts_and_mo_with_unstorable_fields_are_stored_and_applied(sim_factory) -> None:
    system_id = _sid()
    # Receipts hand-made below, as text only (a TLV's C-string would end at the NUL).
    sim = sim_factory(system_id, outcomes={"none": 100}, receipt_mode="text")
    account = _account(sim, system_id)
    worker.open_bind(system_id, "trx")
    campaign = _campaign(account, 3)
    _send_all(campaign)
    first, second, third = (_part(campaign, f"+44791110000{i}") for i in range(3))
    pid = second.provider_message_id

    sim.send_receipt(system_id, first.provider_message_id, stat="UNDELIV", err="99999999999")
    sim.send_receipt(system_id, pid[:2] + "\x00" + pid[2:], stat="DELIVRD", err="000")  # NUL in the text
    sim.send_mo(system_id, "447911100001", "Shop", b"hi\x00there", 3)  # latin-1 MO with a NUL
    sim.send_receipt(system_id, third.provider_message_id, stat="DELIVRD", err="000")

    wait_until(
        lambda: sim.counters["receipts_acked"] == 3 and sim.counters["mo_acked"] == 1,
        timeout=20,
        what=f"every deliver_sm acknowledged: {sim.counters}",
    )
    assert sim.counters["deliver_nacks"] == 0
    assert InboundMessage.objects.get().text == "hithere"
    assert "\x00" not in "".join(Receipt.objects.values_list("raw", flat=True))

    assert apply_receipts() == 3
    first.refresh_from_db()
    assert (first.status, first.error_code, first.error) == (S.UNDELIVERED, None, "receipt err 99999999999")
    assert _statuses(campaign) == {S.UNDELIVERED: 1, S.DELIVERED: 2}
    assert not Message.objects.filter(campaign=campaign, status=S.QUEUED).exists()


def test_an_mo_with_a_broken_udh_is_stored_and_the_writer_goes_on() -> None:
    account = AccountFactory()
    writer = InboxWriter(account_id=account.id, to_receipt=lambda pdu: worker.to_receipt(pdu, "auto"))
    try:
        broken = InboundPdu("x", "447911100001", "Shop", 0x40, 3, b"\x09ab", {}, 0.0)  # UDHL 9, 2 octets follow
        fine = InboundPdu("x", "447911100002", "Shop", 0x00, 3, b"STOP", {}, 0.0)
        writer.submit(broken).result(timeout=10)
        writer.submit(fine).result(timeout=10)
    finally:
        writer.close()
    assert sorted(InboundMessage.objects.values_list("text", "action")) == [("\tab", ""), ("STOP", "opt-out")]
