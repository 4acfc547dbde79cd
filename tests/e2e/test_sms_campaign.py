"""End to end: beat → dispatch worker → two bind workers → SMSC simulator → receipts → report.

Real processes, real sockets, the real database and broker of the run (PostgreSQL and
RabbitMQ in CI). Nothing is mocked.
"""

from __future__ import annotations

import collections
import time
import uuid

import pytest
from django.db.models import Count

from campaigns.models import Campaign, CampaignStatus, Contact, Message, MessagePart
from campaigns.services import campaign_actions as actions
from campaigns.statuses import MessageStatus as S
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import Platform, wait_until
from tests.factories import AccountFactory, RecipientListFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

PASSWORD = "e2epass"


def _system_id() -> str:
    return f"e2e{uuid.uuid4().hex[:10]}"


def _make_campaign(system_id: str, port: int, recipients: int, *, rate: int = 50, binds: int = 2) -> Campaign:
    account = AccountFactory(
        system_id=system_id,
        smpp_password=PASSWORD,
        smpp_port=port,
        binds=binds,
        rate_per_bind=rate,
        source_addr="E2E",
        source_addr_ton=5,
        source_addr_npi=0,
        enquire_link_interval=5,
    )
    lst = RecipientListFactory()
    Contact.objects.bulk_create(
        Contact(recipient_list=lst, phone=f"+4479111{i:05d}", first_name=f"N{i}") for i in range(recipients)
    )
    campaign = Campaign.objects.create(name="e2e", account=account, body="Hi {{ first_name }}, sale on now!")
    campaign.recipient_lists.add(lst)
    return campaign


def _accepted_submits(sim: SimulatorThread) -> list[dict]:
    return [r for r in sim.get_submits() if r["command_status"] == 0]


def _duplicates(submits: list[dict]) -> list[tuple]:
    keys = collections.Counter((r["destination_addr"], r["short_message_hex"]) for r in submits)
    return [k for k, n in keys.items() if n > 1]


@pytest.fixture
def simulator():
    system_id = _system_id()
    config = SimulatorConfig(
        host="127.0.0.1",
        port=0,
        accounts={system_id: PASSWORD},
        rate_per_bind=50.0,
        dlr_delay_s=0.2,
        outcomes={"DELIVRD": 90, "UNDELIV": 10},
        seed=7,
    )
    with SimulatorThread(config) as sim:
        yield system_id, sim


@pytest.fixture
def platform(tmp_path):
    p = Platform(tmp_path)
    yield p
    p.stop()


def _wait_completed(campaign: Campaign, platform: Platform, timeout: float) -> None:
    def done() -> bool:
        campaign.refresh_from_db()
        return campaign.status == CampaignStatus.COMPLETED

    try:
        wait_until(done, timeout=timeout, what="campaign completed")
    except TimeoutError:
        counts = dict(Message.objects.filter(campaign=campaign).values_list("status").annotate(Count("id")))
        pytest.fail(f"campaign not completed: {counts}\n{platform.logs()}")


def test_campaign_of_2000_is_sent_at_50_per_bind_and_every_message_settles(simulator, platform) -> None:
    system_id, sim = simulator
    campaign = _make_campaign(system_id, sim.port, 2000)
    platform.start_dispatch_worker()
    platform.start_bind_worker(system_id, 0)
    platform.start_bind_worker(system_id, 1)
    assert sim.wait_for_binds(2, timeout=60), platform.logs()
    platform.start_beat()
    actions.send_now(campaign=campaign)
    _wait_completed(campaign, platform, timeout=240)

    statuses = dict(Message.objects.filter(campaign=campaign).values_list("status").annotate(Count("id")))
    assert set(statuses) <= {S.DELIVERED, S.UNDELIVERED}, statuses
    assert sum(statuses.values()) == 2000
    assert statuses.get(S.UNDELIVERED, 0) > 0  # the simulator's chosen 10 % came back as such
    submits = _accepted_submits(sim)
    assert len(submits) == 2000
    assert _duplicates(submits) == []
    # A throttled submit (ESME_RTHROTTLED) is retried by the bind, never lost or doubled:
    # the counts above hold whatever sim.counters["throttled"] says.
    # Each part's provider id is the one the simulator gave for it.
    ids = set(MessagePart.objects.filter(message__campaign=campaign).values_list("provider_message_id", flat=True))
    assert ids == {r["message_id"].lstrip("0") or "0" for r in submits}
    # Both binds carried traffic.
    assert len({r["bind_id"] for r in submits}) == 2


def test_a_bind_worker_killed_mid_campaign_loses_nothing_and_sends_nothing_twice(simulator, platform) -> None:
    system_id, sim = simulator
    campaign = _make_campaign(system_id, sim.port, 1000)
    platform.start_dispatch_worker()
    platform.start_bind_worker(system_id, 0)
    platform.start_bind_worker(system_id, 1)
    assert sim.wait_for_binds(2, timeout=60), platform.logs()
    platform.start_beat()
    actions.send_now(campaign=campaign)
    assert sim.wait_for_submits(300, timeout=120), platform.logs()
    platform.kill(f"bind-{system_id}-0")  # SIGKILL: no unbind, batch unacknowledged
    platform.start_bind_worker(system_id, 0)  # restarted, as the supervisor would
    _wait_completed(campaign, platform, timeout=300)

    statuses = dict(Message.objects.filter(campaign=campaign).values_list("status").annotate(Count("id")))
    assert sum(statuses.values()) == 1000  # none lost
    assert set(statuses) <= {S.DELIVERED, S.UNDELIVERED, S.UNKNOWN}, statuses
    unknown_phones = {
        p.lstrip("+")
        for p in Message.objects.filter(campaign=campaign, status=S.UNKNOWN).values_list("phone", flat=True)
    }
    duplicates = _duplicates(_accepted_submits(sim))
    assert [d for d in duplicates if d[0] not in unknown_phones] == []
    sent_phones = {r["destination_addr"] for r in _accepted_submits(sim)}
    settled = {
        p.lstrip("+")
        for p in Message.objects.filter(campaign=campaign, status__in=[S.DELIVERED, S.UNDELIVERED]).values_list(
            "phone", flat=True
        )
    }
    assert settled <= sent_phones


def test_pause_stops_submits_within_2_seconds_and_multipart_parts_get_their_own_ids(simulator, platform) -> None:
    system_id, sim = simulator
    campaign = _make_campaign(system_id, sim.port, 150, binds=1)
    campaign.body = "Hi {{ first_name }}! " + "This spring sale runs all weekend in every store. " * 4  # 2 parts
    campaign.save()
    platform.start_dispatch_worker()
    platform.start_bind_worker(system_id, 0)
    assert sim.wait_for_binds(1, timeout=60), platform.logs()
    platform.start_beat()
    actions.send_now(campaign=campaign)
    assert sim.wait_for_submits(60, timeout=120), platform.logs()
    paused_at = time.time()
    actions.pause(campaign=campaign)
    seen = len(sim.get_submits())
    # Observe for 4 s: anything submitted must have left within 2 s of the pause.
    assert not sim.wait_for_submits(seen + 200, timeout=4)
    late = [r for r in sim.get_submits() if r["ts"] > paused_at + 2.0]
    assert late == []
    campaign.refresh_from_db()
    actions.resume(campaign=campaign)
    _wait_completed(campaign, platform, timeout=180)

    parts = MessagePart.objects.filter(message__campaign=campaign)
    assert parts.count() == 300
    assert set(Message.objects.filter(campaign=campaign).values_list("segments", flat=True)) == {2}
    ids = list(parts.values_list("provider_message_id", flat=True))
    assert None not in ids and len(set(ids)) == 300  # each part its own provider id
    submits = _accepted_submits(sim)
    assert len(submits) == 300 and _duplicates(submits) == []
    by_phone = collections.defaultdict(list)
    for r in submits:
        by_phone[r["destination_addr"]].append(r["udh"])
    for udhs in by_phone.values():
        assert sorted(u[-4:] for u in udhs) == ["0201", "0202"]  # udh8: total 2, seq 1 and 2
        assert len({u[:-4] for u in udhs}) == 1  # same reference for both parts
