"""Smart encoding on the wire: what the SMSC simulator receives, over a real bind."""

from __future__ import annotations

import uuid

import pytest

from campaigns.models import Campaign, Contact, Message
from campaigns.services import campaign_actions as actions
from campaigns.services.dispatch import tick
from campaigns.sms_text.gsm_alphabet import decode_gsm
from campaigns.tasks import send_batch_task
from smpp_transport import worker
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.factories import AccountFactory, RecipientListFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

PASSWORD = "smartpw"
BODY = "Hi {{ first_name }}, it\u2019s our \u201cbig\u201d sale \u2014 20% off\u2026"


@pytest.fixture
def sim():
    system_id = f"s{uuid.uuid4().hex[:12]}"
    config = SimulatorConfig(host="127.0.0.1", port=0, accounts={system_id: PASSWORD}, rate_per_bind=0)
    simulator = SimulatorThread(config).start()
    simulator.system_id = system_id
    yield simulator
    worker.close_bind()
    simulator.stop()


def _send(sim: SimulatorThread, *, smart_encoding: bool) -> Campaign:
    account = AccountFactory(
        system_id=sim.system_id, smpp_password=PASSWORD, smpp_port=sim.port, rate_per_bind=0, source_addr="Shop"
    )
    lst = RecipientListFactory()
    Contact.objects.bulk_create(
        Contact(recipient_list=lst, phone=f"+4479111{i:05d}", first_name=name) for i, name in enumerate(["Ann", "Bo"])
    )
    campaign = Campaign.objects.create(name="smart", account=account, body=BODY, smart_encoding=smart_encoding)
    campaign.recipient_lists.add(lst)
    worker.open_bind(sim.system_id, "trx")
    actions.send_now(campaign=campaign)
    for _ in range(20):  # bounded: two messages need one or two ticks
        batches = tick(enqueue=lambda b: None)
        if not batches:
            break
        for batch in batches:
            send_batch_task("sms", batch.message_ids, batch.claim)
    return campaign


def _received(sim: SimulatorThread) -> dict[str, tuple[int, str]]:
    out = {}
    for record in sim.submits:
        raw = bytes.fromhex(record["short_message_hex"])
        text = decode_gsm(raw) if record["data_coding"] == 0 else raw.decode("utf-16-be")
        out[record["destination_addr"]] = (record["data_coding"], text)
    return out


def test_sent_text_is_the_personalised_text_in_gsm(sim) -> None:
    campaign = _send(sim, smart_encoding=True)
    assert _received(sim) == {
        "447911100000": (0, 'Hi Ann, it\'s our "big" sale - 20% off...'),
        "447911100001": (0, 'Hi Bo, it\'s our "big" sale - 20% off...'),
    }
    assert set(Message.objects.filter(campaign=campaign).values_list("segments", flat=True)) == {1}
    # The stored body stays as written (personalised): the report shows what the marketer wrote.
    assert Message.objects.get(campaign=campaign, phone="+447911100000").body.startswith("Hi Ann, it\u2019s")


def test_smart_encoding_off_leaves_the_text_unchanged(sim) -> None:
    _send(sim, smart_encoding=False)
    assert _received(sim) == {
        "447911100000": (8, "Hi Ann, it\u2019s our \u201cbig\u201d sale \u2014 20% off\u2026"),
        "447911100001": (8, "Hi Bo, it\u2019s our \u201cbig\u201d sale \u2014 20% off\u2026"),
    }
