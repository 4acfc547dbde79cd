"""Receipts over real sockets: simulator → bind → group-committed inbox → bulk apply."""

from __future__ import annotations

import signal
import sys
import uuid

import pytest
from django.db.models import Count

from campaigns.models import Campaign, Contact, InboundMessage, Message, MessagePart, OptOut, Receipt, ReceiptState
from campaigns.services import campaign_actions as actions
from campaigns.services.dispatch import tick
from campaigns.services.materialise import REASON_OPTED_OUT, materialise_recipients
from campaigns.services.receipts import apply_receipts
from campaigns.statuses import MessageStatus as S
from campaigns.tasks import send_batch_task
from smpp_transport import worker
from smpp_transport.bind import Bind
from smpp_transport.inbox_writer import InboxWriter
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import Platform, wait_until
from tests.factories import AccountFactory, RecipientListFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]

PASSWORD = "rcptpass"


def _sid() -> str:
    return f"r{uuid.uuid4().hex[:12]}"


def _account(sim: SimulatorThread, system_id: str, **kw):
    return AccountFactory(
        system_id=system_id,
        smpp_password=PASSWORD,
        smpp_port=sim.port,
        rate_per_bind=0,
        source_addr="Shop",
        source_addr_ton=5,
        source_addr_npi=0,
        **kw,
    )


def _campaign(account, n: int, body: str = "Hello there") -> Campaign:
    lst = RecipientListFactory()
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=f"+4479111{i:05d}") for i in range(n))
    campaign = Campaign.objects.create(name="r", account=account, body=body)
    campaign.recipient_lists.add(lst)
    actions.send_now(campaign=campaign)
    return campaign


def _send_all(campaign: Campaign) -> None:
    """Claim and send every message through this process's bind (the worker's own code)."""
    while True:
        batches = tick(enqueue=lambda b: None)
        if not batches:
            break
        for batch in batches:
            send_batch_task("sms", batch.message_ids, batch.claim)


def _statuses(campaign: Campaign) -> dict[str, int]:
    return dict(Message.objects.filter(campaign=campaign).values_list("status").annotate(Count("id")))


def _apply_until_settled(campaign: Campaign, n: int, timeout: float = 60) -> None:
    def settled() -> bool:
        apply_receipts()
        return _statuses(campaign).get(S.DELIVERED, 0) == n

    wait_until(settled, timeout=timeout, what=f"{n} delivered, have {_statuses(campaign)}")


@pytest.fixture
def sim_factory():
    started = []

    def make(system_id: str, **kw) -> SimulatorThread:
        config = SimulatorConfig(host="127.0.0.1", port=0, accounts={system_id: PASSWORD}, rate_per_bind=0, **kw)
        sim = SimulatorThread(config).start()
        started.append(sim)
        return sim

    yield make
    worker.close_bind()
    for sim in started:
        sim.stop()


def test_receipts_arrive_on_the_receiver_bind_of_the_same_system_id(sim_factory) -> None:
    system_id = _sid()
    sim = sim_factory(system_id, outcomes={"DELIVRD": 100})
    account = _account(sim, system_id, bind_mode="tx_rx")
    worker.open_bind(system_id, "tx")
    writer = InboxWriter(account_id=account.id, to_receipt=lambda pdu: worker.to_receipt(pdu, "auto"))
    receiver = Bind(
        worker.bind_config(worker.transport_api.account_settings(system_id=system_id), "rx"),
        on_deliver=writer.submit,
        name="rx",
    )
    receiver.start(wait=True, timeout=10)
    try:
        campaign = _campaign(account, 50)
        _send_all(campaign)
        _apply_until_settled(campaign, 50)
        assert receiver.stats["delivers"] >= 50
        assert worker._bind.stats.get("delivers", 0) == 0  # a TX bind cannot receive
    finally:
        receiver.stop()
        writer.close()


def test_text_only_receipts_with_decimal_zero_padded_ids_match_hex_submit_ids(sim_factory) -> None:
    system_id = _sid()
    sim = sim_factory(
        system_id, receipt_mode="text", id_format="hex", receipt_id_format="decimal", receipt_id_zero_pad=20
    )
    account = _account(sim, system_id, message_id_format="hex")
    worker.open_bind(system_id, "trx")
    campaign = _campaign(account, 30)
    _send_all(campaign)
    _apply_until_settled(campaign, 30)
    raw_ids = set(Receipt.objects.values_list("raw", flat=True))
    assert all("stat:DELIVRD" in raw for raw in raw_ids)
    assert not Receipt.objects.exclude(state=ReceiptState.APPLIED).exists()


def test_receipt_before_submit_resp_waits_then_applies_and_duplicates_change_nothing(sim_factory) -> None:
    system_id = _sid()
    sim = sim_factory(system_id, resp_delay_s=0.3, dlr_delay_s=0.0, outcomes={"DELIVRD": 100})
    account = _account(sim, system_id)
    worker.open_bind(system_id, "trx")
    campaign = _campaign(account, 5)
    _send_all(campaign)
    _apply_until_settled(campaign, 5)
    # The receipts were stored before the parts knew their provider ids.
    early = [r for r in Receipt.objects.select_related("part") if r.part and r.received_at < r.part.submitted_at]
    assert early, "the simulator's delayed resp should have let receipts arrive first"
    # Duplicates and a late, lower status change nothing.
    part = MessagePart.objects.filter(message__campaign=campaign).first()
    sim.send_receipt(system_id, part.provider_message_id, stat="DELIVRD")
    sim.send_receipt(system_id, part.provider_message_id, stat="UNDELIV")
    sim.send_receipt(system_id, part.provider_message_id, stat="ENROUTE")
    wait_until(lambda: Receipt.objects.count() >= 8, timeout=10, what="duplicate receipts stored")
    apply_receipts()
    part.refresh_from_db()
    assert part.status == S.DELIVERED
    assert _statuses(campaign) == {S.DELIVERED: 5}


def test_stop_reply_suppresses_the_number_in_the_next_campaign(sim_factory) -> None:
    system_id = _sid()
    sim = sim_factory(system_id)
    account = _account(sim, system_id)
    worker.open_bind(system_id, "trx")
    sim.send_mo(system_id, "447911100001", "Shop", b" Stop! ")
    sim.send_mo(system_id, "447911100002", "Shop", b"Don't stop")
    wait_until(lambda: InboundMessage.objects.count() == 2, timeout=10, what="MO stored")
    assert set(InboundMessage.objects.values_list("action", flat=True)) == {"opt-out", ""}
    optout = OptOut.objects.get()
    assert (optout.phone, optout.account_id, optout.source) == ("+447911100001", account.id, "keyword")
    assert optout.source_message.text == " Stop! "
    lst = RecipientListFactory()
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=p) for p in ("+447911100001", "+447911100002"))
    campaign = Campaign.objects.create(name="next", account=account, body="hi")
    campaign.recipient_lists.add(lst)
    materialise_recipients(campaign=campaign)
    assert dict(Message.objects.filter(campaign=campaign).values_list("phone", "reason")) == {
        "+447911100001": REASON_OPTED_OUT,
        "+447911100002": "",
    }
    sim.send_mo(system_id, "447911100001", "Shop", b"START")
    wait_until(lambda: not OptOut.objects.exists(), timeout=10, what="opt-in removes the opt-out")


def test_a_receiver_killed_between_receiving_and_applying_loses_nothing(sim_factory, tmp_path) -> None:
    system_id = _sid()
    sim = sim_factory(system_id, dlr_delay_s=0.5, outcomes={"DELIVRD": 100})
    account = _account(sim, system_id, bind_mode="tx_rx")
    platform = Platform(tmp_path)
    argv = [sys.executable, "manage.py", "smpp_receiver", "--system-id", system_id]
    try:
        platform.start("rx-1", argv)
        assert sim.wait_for_binds(1, timeout=60), platform.logs()
        worker.open_bind(system_id, "tx")
        campaign = _campaign(account, 300)
        _send_all(campaign)
        assert sim.wait_for_counter("receipts_acked", 50, timeout=60), platform.logs()
        platform.kill("rx-1", signal.SIGKILL)  # mid-stream: some stored, some not yet acked
        platform.start("rx-2", argv)
        _apply_until_settled(campaign, 300, timeout=120)
    finally:
        platform.stop()
    assert not Receipt.objects.filter(state=ReceiptState.PENDING).exists()
