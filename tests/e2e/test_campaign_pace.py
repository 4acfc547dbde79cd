"""End to end: two capped campaigns on one account, each held to its cap as the SMSC sees it.

Real beat, dispatch worker and two bind workers (2 binds × 50/s) against the SMSC
simulator; the campaigns (caps 20 and 30 segments/s) run at the same time and are told
apart by their sender. The simulator stamps every submit_sm as it arrives: over any 10 s
each campaign's arrivals stay within 1 % of its cap, and no second holds more than
cap + 1. About 13 s of sending.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.db.models import Count

from campaigns.models import Campaign, Contact, Message
from campaigns.services import campaign_actions as actions
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import Platform, wait_until
from tests.factories import AccountFactory, RecipientListFactory
from tests.rates import max_in_window

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

PASSWORD = "e2epass"
SECONDS = 13
CAPS = {"CapTwenty": 20, "CapThirty": 30}


def _campaign(account, sender: str, cap: int, offset: int) -> Campaign:
    lst = RecipientListFactory()
    Contact.objects.bulk_create(
        Contact(recipient_list=lst, phone=f"+44791{offset + i:06d}") for i in range(cap * SECONDS)
    )
    campaign = Campaign.objects.create(
        name=sender, account=account, sender=sender, body=f"{sender}: spring sale on now", send_rate=cap
    )
    campaign.recipient_lists.add(lst)
    return campaign


@pytest.fixture
def platform(tmp_path):
    p = Platform(tmp_path)
    yield p
    p.stop()


def test_two_capped_campaigns_on_one_account_are_each_held_to_their_cap(platform) -> None:
    system_id = f"pace{uuid.uuid4().hex[:8]}"
    config = SimulatorConfig(
        host="127.0.0.1", port=0, accounts={system_id: PASSWORD}, rate_per_bind=50.0, outcomes={"DELIVRD": 1}
    )
    with SimulatorThread(config) as sim:
        account = AccountFactory(
            system_id=system_id,
            smpp_password=PASSWORD,
            smpp_port=sim.port,
            binds=2,
            rate_per_bind=50,
            source_addr="E2E",
            source_addr_ton=5,
            source_addr_npi=0,
            enquire_link_interval=5,
        )
        campaigns = [_campaign(account, sender, cap, k * 100000) for k, (sender, cap) in enumerate(CAPS.items())]
        platform.start_dispatch_worker()
        platform.start_bind_worker(system_id, 0)
        platform.start_bind_worker(system_id, 1)
        assert sim.wait_for_binds(2, timeout=60), platform.logs()
        platform.start_beat()
        for campaign in campaigns:
            actions.send_now(campaign=campaign)
        total = sum(cap * SECONDS for cap in CAPS.values())
        try:
            wait_until(lambda: len(sim.get_submits()) >= total, timeout=SECONDS * 4 + 60, what="every submit")
        except TimeoutError:
            counts = dict(Message.objects.values_list("status").annotate(Count("id")))
            pytest.fail(f"not all sent: {counts}\n{platform.logs()}")
        submits = sim.get_submits()
    log = platform.tmp / "submits.jsonl"  # what the SMSC saw, kept with the workers' logs
    log.write_text("".join(json.dumps(r) + "\n" for r in submits))

    assert len({r["bind_id"] for r in submits}) == 2  # the pace holds across both binds
    for sender, cap in CAPS.items():
        times = sorted(r["ts"] for r in submits if r["source_addr"] == sender)
        assert len(times) == cap * SECONDS, sender
        busiest_10s = max_in_window(times, 10.0)
        assert busiest_10s <= cap * 10 * 1.01, (sender, busiest_10s)
        # A pace, not a trickle (on a starved machine it undershoots rather than overshoots).
        assert busiest_10s >= cap * 10 * 0.85, (sender, busiest_10s)
        assert max_in_window(times, 1.0) <= cap + 1, (sender, max_in_window(times, 1.0), str(log))
    assert sim.counters["throttled"] == 0
