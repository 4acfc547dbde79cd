"""End to end: receipts that never come. A campaign against the SMSC simulator, a share of
whose messages get no receipt, completes by the receipt deadline; a receipt that comes after
it still counts.

Real processes (beat, dispatch worker, a bind worker), real sockets, the run's database and
broker. Which messages got no receipt is what the simulator recorded for each submit.
"""

from __future__ import annotations

import uuid

import pytest
from django.db.models import Count

from campaigns.models import Campaign, CampaignStatus, Contact, Message, MessagePart
from campaigns.selectors import campaign_stats
from campaigns.services import campaign_actions as actions
from campaigns.statuses import MessageStatus as S
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import Platform, wait_until
from tests.factories import AccountFactory, RecipientListFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(400)]

PASSWORD = "dlpass"
RECIPIENTS = 200
DEADLINE_S = 8


def _campaign(system_id: str, port: int) -> Campaign:
    account = AccountFactory(
        system_id=system_id,
        smpp_password=PASSWORD,
        smpp_port=port,
        binds=1,
        rate_per_bind=100,
        source_addr="E2E",
        source_addr_ton=5,
        source_addr_npi=0,
        enquire_link_interval=5,
    )
    lst = RecipientListFactory()
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=f"+4479112{i:05d}") for i in range(RECIPIENTS))
    campaign = Campaign.objects.create(name="deadline", account=account, body="Sale on now!")
    campaign.recipient_lists.add(lst)
    return campaign


def _stored(message_id: str) -> str:
    """The simulator's id as the platform stores it (normalised: no leading zeros)."""
    return message_id.lstrip("0") or "0"


def _statuses(campaign: Campaign) -> dict[str, int]:
    return dict(Message.objects.filter(campaign=campaign).values_list("status").annotate(Count("id")))


def test_receipts_that_never_come_are_unknown_by_the_deadline_and_a_late_one_still_counts(tmp_path) -> None:
    system_id = f"dl{uuid.uuid4().hex[:10]}"
    config = SimulatorConfig(
        host="127.0.0.1",
        port=0,
        accounts={system_id: PASSWORD},
        rate_per_bind=100.0,
        dlr_delay_s=0.2,
        outcomes={"DELIVRD": 85, "none": 15},
        seed=3,
    )
    platform = Platform(tmp_path, extra_env={"RECEIPT_DEADLINE_S": str(DEADLINE_S)})
    with SimulatorThread(config) as sim:
        try:
            campaign = _campaign(system_id, sim.port)
            platform.start_dispatch_worker()
            platform.start_bind_worker(system_id, 0)
            assert sim.wait_for_binds(1, timeout=60), platform.logs()
            platform.start_beat()
            actions.send_now(campaign=campaign)

            def completed() -> bool:
                campaign.refresh_from_db()
                return campaign.status == CampaignStatus.COMPLETED

            try:
                wait_until(completed, timeout=240, what="the campaign completed by the receipt deadline")
            except TimeoutError:
                pytest.fail(f"not completed: {_statuses(campaign)}\n{platform.logs()}")

            accepted = [r for r in sim.get_submits() if r["command_status"] == 0]
            assert len(accepted) == RECIPIENTS
            raw_ids = {_stored(r["message_id"]): r["message_id"] for r in accepted}
            no_receipt = {_stored(r["message_id"]) for r in accepted if r["receipt"] is None}
            assert 0 < len(no_receipt) < RECIPIENTS
            assert {r["receipt"] for r in accepted} == {"DELIVRD", None}
            unknown = Message.objects.filter(campaign=campaign, status=S.UNKNOWN)
            unknown_ids = set(
                MessagePart.objects.filter(message__in=unknown).values_list("provider_message_id", flat=True)
            )
            assert unknown_ids == no_receipt  # exactly the messages the simulator sent no receipt for
            assert set(unknown.values_list("reason", flat=True)) == {f"no delivery receipt within {DEADLINE_S} s"}
            assert _statuses(campaign) == {S.DELIVERED: RECIPIENTS - len(no_receipt), S.UNKNOWN: len(no_receipt)}

            # A receipt after the deadline, over the wire like any other: it still applies.
            late_id = sorted(no_receipt)[0]
            late = MessagePart.objects.get(message__campaign=campaign, provider_message_id=late_id).message
            sim.send_receipt(system_id, raw_ids[late_id], stat="DELIVRD")

            def upgraded() -> bool:
                late.refresh_from_db()
                return late.status == S.DELIVERED

            try:
                wait_until(upgraded, timeout=60, what="the late receipt applied")
            except TimeoutError:
                pytest.fail(f"late receipt not applied: {late.status}\n{platform.logs()}")
            assert late.reason == ""
            assert late.parts.get().error == ""
            campaign.refresh_from_db()
            assert campaign.status == CampaignStatus.COMPLETED
            stats = campaign_stats(campaign)
            assert (stats["delivered"], stats["by_status"][S.UNKNOWN]) == (
                RECIPIENTS - len(no_receipt) + 1,
                len(no_receipt) - 1,
            )
        finally:
            platform.stop()
