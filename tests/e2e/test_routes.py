"""End to end: a route over two provider accounts, each on its own SMSC simulator, with the
real beat, dispatch worker and bind workers. Weights hold, receipts match per account (both
simulators hand out the same message ids), and stopping one simulator moves the rest of a
running campaign to the other with nothing lost or sent twice."""

from __future__ import annotations

import collections
import time
import uuid

import pytest
from django.db.models import Count

from campaigns.models import Campaign, Contact, Message, MessagePart, Route, RouteEntry
from campaigns.services import campaign_actions as actions
from campaigns.statuses import MessageStatus as S
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import Platform, wait_until
from tests.factories import AccountFactory, RecipientListFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

PASSWORD = "e2epass"


def _sim(system_id: str) -> SimulatorThread:
    config = SimulatorConfig(
        host="127.0.0.1",
        port=0,
        accounts={system_id: PASSWORD},
        rate_per_bind=0,
        dlr_delay_s=0.2,
        outcomes={"DELIVRD": 90, "UNDELIV": 10},
        seed=7,
    )
    sim = SimulatorThread(config)
    # Both providers number their messages from the same id: a receipt matched by id alone,
    # not by (account, id), would land on the other account's message.
    sim._server._next_id = 0x20000000
    return sim


@pytest.fixture
def two_simulators():
    ids = [f"rt{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with _sim(ids[0]) as a, _sim(ids[1]) as b:
        yield [(ids[0], a), (ids[1], b)]


@pytest.fixture
def platform(tmp_path):
    p = Platform(tmp_path)  # the product's ROUTE_UNBOUND_S (10 s): failover is tested as shipped
    yield p
    p.stop()


def _account(system_id: str, port: int, rate: int):
    return AccountFactory(
        system_id=system_id,
        smpp_password=PASSWORD,
        smpp_port=port,
        binds=1,
        rate_per_bind=rate,
        source_addr=f"S{system_id[-4:]}",
        source_addr_ton=5,
        source_addr_npi=0,
        enquire_link_interval=5,
    )


def _routed(accounts_weights, recipients: int) -> Campaign:
    route = Route.objects.create(name=f"e2e-{uuid.uuid4().hex[:6]}")
    for position, (account, weight) in enumerate(accounts_weights):
        RouteEntry.objects.create(route=route, prefix="", account=account, weight=weight, position=position)
    lst = RecipientListFactory()
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=f"+4479111{i:05d}") for i in range(recipients))
    campaign = Campaign.objects.create(name="e2e route", account=accounts_weights[0][0], route=route, body="Sale!")
    campaign.recipient_lists.add(lst)
    return campaign


def _start(platform: Platform, sims) -> None:
    platform.start_dispatch_worker()
    for system_id, _ in sims:
        platform.start_bind_worker(system_id, 0)
    for _, sim in sims:
        assert sim.wait_for_binds(1, timeout=60), platform.logs()
    platform.start_beat()


def _accepted(sim: SimulatorThread) -> list[dict]:
    return [r for r in sim.get_submits() if r["command_status"] == 0]


def _statuses(campaign: Campaign) -> dict[str, int]:
    return dict(Message.objects.filter(campaign=campaign).values_list("status").annotate(Count("id")))


def _wait_settled(campaign: Campaign, platform: Platform, *, timeout: float, allow=(S.DELIVERED, S.UNDELIVERED)):
    def done() -> bool:
        return set(_statuses(campaign)) <= set(allow)

    try:
        wait_until(done, timeout=timeout, what="every message settled")
    except TimeoutError:
        pytest.fail(f"not settled: {_statuses(campaign)}\n{platform.logs()}")


def test_a_70_30_route_splits_within_5_percent_and_receipts_match_per_account(two_simulators, platform) -> None:
    (sid_a, sim_a), (sid_b, sim_b) = two_simulators
    a, b = _account(sid_a, sim_a.port, 200), _account(sid_b, sim_b.port, 200)
    campaign = _routed([(a, 70), (b, 30)], 1000)
    _start(platform, two_simulators)
    actions.send_now(campaign=campaign)
    _wait_settled(campaign, platform, timeout=240)

    on_a, on_b = _accepted(sim_a), _accepted(sim_b)
    assert len(on_a) + len(on_b) == 1000
    assert 650 <= len(on_a) <= 750 and 250 <= len(on_b) <= 350, (len(on_a), len(on_b))
    by_account = dict(Message.objects.filter(campaign=campaign).values_list("account_id").annotate(Count("id")))
    assert by_account == {a.id: len(on_a), b.id: len(on_b)}
    # Each account's sender went with its messages.
    assert {r["source_addr"] for r in on_a} == {a.source_addr} and {r["source_addr"] for r in on_b} == {b.source_addr}
    # Both simulators number their ids alike: receipts matched because ids are per account.
    ids_a = {r["message_id"].lstrip("0") or "0" for r in on_a}
    ids_b = {r["message_id"].lstrip("0") or "0" for r in on_b}
    assert ids_a & ids_b  # the same ids on both sides
    parts = MessagePart.objects.filter(message__campaign=campaign)
    assert set(parts.filter(account=a).values_list("provider_message_id", flat=True)) == ids_a
    assert set(parts.filter(account=b).values_list("provider_message_id", flat=True)) == ids_b
    assert parts.exclude(account_id=models_account_of_message()).count() == 0
    assert _statuses(campaign).get(S.UNDELIVERED, 0) > 0


def test_longest_prefix_and_least_cost_choose_the_account_on_the_wire(two_simulators, platform) -> None:
    (sid_a, sim_a), (sid_b, sim_b) = two_simulators
    a, b = _account(sid_a, sim_a.port, 200), _account(sid_b, sim_b.port, 200)
    route = Route.objects.create(name=f"lc-{uuid.uuid4().hex[:6]}", strategy="least_cost")
    for prefix, price_a, price_b in (("+447", "0.010", "0.020"), ("+44", "0.030", "0.020"), ("", "0.010", "0.050")):
        RouteEntry.objects.create(route=route, prefix=prefix, account=a, price=price_a)
        RouteEntry.objects.create(route=route, prefix=prefix, account=b, price=price_b, position=1)
    lst = RecipientListFactory()
    phones = [f"+4479111{i:05d}" for i in range(50)] + [f"+4420791{i:05d}" for i in range(50)]
    phones += [f"+3361234{i:04d}" for i in range(50)]
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=p) for p in phones)
    campaign = Campaign.objects.create(name="e2e lc", account=a, route=route, body="Sale!")
    campaign.recipient_lists.add(lst)
    _start(platform, two_simulators)
    actions.send_now(campaign=campaign)
    _wait_settled(campaign, platform, timeout=180)
    on_a = {r["destination_addr"] for r in _accepted(sim_a)}
    on_b = {r["destination_addr"] for r in _accepted(sim_b)}
    assert on_a == {p.lstrip("+") for p in phones if p.startswith(("+447", "+33"))}  # +447 longest, "" cheapest
    assert on_b == {p.lstrip("+") for p in phones if p.startswith("+442")}  # +44: B is cheaper


def models_account_of_message():
    from django.db.models import F

    return F("message__account_id")


def test_stopping_one_simulator_moves_the_rest_to_the_other_within_30_s(two_simulators, platform) -> None:
    (sid_a, sim_a), (sid_b, sim_b) = two_simulators
    a, b = _account(sid_a, sim_a.port, 40), _account(sid_b, sim_b.port, 40)
    campaign = _routed([(a, 50), (b, 50)], 2400)  # 30 s at both accounts' 80/s
    _start(platform, two_simulators)
    actions.send_now(campaign=campaign)
    assert sim_a.wait_for_submits(300, timeout=120), platform.logs()
    sim_a.stop()
    stopped_at = time.monotonic()
    sent_on_a = len(_accepted(sim_a))

    def nothing_left_on_a() -> bool:
        return not Message.objects.filter(campaign=campaign, account=a, status__in=[S.PENDING, S.QUEUED]).exists()

    wait_until(nothing_left_on_a, timeout=60, what="account A's unsent messages moved")
    moved_within = time.monotonic() - stopped_at
    assert moved_within <= 30, moved_within
    # Whatever A accepted before it stopped and had no receipt for stays "accepted".
    _wait_settled(campaign, platform, timeout=240, allow=(S.DELIVERED, S.UNDELIVERED, S.ACCEPTED, S.UNKNOWN))

    statuses = _statuses(campaign)
    assert sum(statuses.values()) == 2400  # none lost
    on_a, on_b = _accepted(sim_a), _accepted(sim_b)
    assert len(on_a) == sent_on_a  # nothing reached A after it stopped
    unknown = {
        p.lstrip("+")
        for p in Message.objects.filter(campaign=campaign, status=S.UNKNOWN).values_list("phone", flat=True)
    }
    twice = [k for k, n in collections.Counter(r["destination_addr"] for r in on_a + on_b).items() if n > 1]
    assert [p for p in twice if p not in unknown] == []
    assert len(on_a) + len(on_b) >= 2400 - len(unknown)
    moved = Message.objects.filter(campaign=campaign, account=b).exclude(route_note="")
    assert moved.exists()
    assert Message.objects.filter(campaign=campaign, account=a, status__in=[S.PENDING, S.QUEUED]).count() == 0
    print(f"moved within {moved_within:.1f} s; on A {len(on_a)}, on B {len(on_b)}, unknown {len(unknown)}; {statuses}")
