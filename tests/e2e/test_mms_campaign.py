"""End to end: beat → dispatch worker → MM4 sender worker → MM4 simulator → delivery reports →
inbound receiver → receipt inbox → report.

Real processes (beat, the dispatch worker, an MM4 sender worker, ``manage.py mm4_receiver``),
real sockets, the real database and broker of the run (PostgreSQL and RabbitMQ in CI); the
simulator runs in the test process so the test can read what it chose. Nothing is mocked.
"""

from __future__ import annotations

import signal
import uuid
from collections import Counter
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db.models import Count

from campaigns.models import (
    Account,
    BatchInFlight,
    Campaign,
    CampaignStatus,
    Channel,
    Contact,
    Message,
    MessagePart,
    Receipt,
)
from campaigns.services import campaign_actions as actions
from campaigns.services.mms import add_media
from campaigns.statuses import MessageStatus as S
from mms_transport import mm4
from mms_transport.adapter import MM_STATUS
from mms_transport.simulator import SimulatorConfig, SimulatorThread
from tests.e2e.harness import Platform, wait_until
from tests.factories import AccountFactory, RecipientListFactory
from tests.media_samples import png
from tests.mms_transport.conftest import certs  # noqa: F401 - the receiver's TLS certificate (fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

API_KEY = "e2e-mm4-key"
#: the provider's login to our receiver (MM4_RECEIVER_AUTH of the receiver process).
RECEIVER_LOGIN = ("e2e-mmsc", "e2e-receiver-pw")
PNG = png(2056)
# Outcomes that settle a message (Deferred and Forwarded would leave it "accepted").
OUTCOMES = {"Retrieved": 80, "Rejected": 8, "Expired": 7, "Indeterminate": 5}


@pytest.fixture
def platform(tmp_path: Path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"  # the MM4 worker is told to read media from here
    p = Platform(tmp_path, extra_env={"MM4_CONNECT_WAIT_S": "5"})
    yield p
    p.stop()


@pytest.fixture
def system_id() -> str:
    return f"e2e{uuid.uuid4().hex[:10]}"


@pytest.fixture
def report_id() -> str:
    """Which id the simulator's reports name (tests parametrize it): TS 23.140's by default."""
    return "original"


@pytest.fixture
def simulator(platform: Platform, system_id: str, tmp_path: Path, report_id: str, certs: dict[str, str]):  # noqa: F811
    """The simulator, delivering its reports as the provider does: logged in, over implicit TLS."""
    receiver_port = platform.start_mm4_receiver(
        MM4_RECEIVER_AUTH=f"{RECEIVER_LOGIN[0]}:{RECEIVER_LOGIN[1]}",
        MM4_RECEIVER_TLS_CERT=certs["server"],
        MM4_RECEIVER_TLS_KEY=certs["key"],
    )
    config = SimulatorConfig(
        accounts={system_id: API_KEY},
        receiver=("localhost", receiver_port),
        report_delay_s=0.3,
        outcomes=OUTCOMES,
        seed=7,
        eml_dir=tmp_path / "eml",
        hostname="mmsc.e2e.test",
        report_id=report_id,
        receiver_auth=RECEIVER_LOGIN,
        receiver_tls=True,
        receiver_ca_file=certs["ca"],
    )
    with SimulatorThread(config) as sim:
        yield sim


def _make_campaign(system_id: str, port: int, recipients: int, *, key: str = API_KEY, rate: int = 25) -> Campaign:
    account = AccountFactory(
        system_id=system_id,
        mm4_host="127.0.0.1",
        mm4_port=port,
        mm4_tls=False,
        mm4_api_key=key,
        mm4_originator_domain=f"{system_id}.mms.test",
        mms_rate=rate,
    )
    lst = RecipientListFactory()
    Contact.objects.bulk_create(
        Contact(recipient_list=lst, phone=f"+4479111{i:05d}", first_name=f"N{i}") for i in range(recipients)
    )
    campaign = Campaign.objects.create(
        name="e2e mms",
        account=account,
        channel=Channel.MMS,
        sender="+15550100",
        mms_subject="Spring sale",
        body="Hi {{ first_name }}, this weekend only: 20% off.",
    )
    campaign.recipient_lists.add(lst)
    add_media(campaign=campaign, file=ContentFile(PNG, name="sale.png"))
    return campaign


def _wait_completed(campaign: Campaign, platform: Platform, sim: SimulatorThread, timeout: float) -> None:
    def done() -> bool:
        campaign.refresh_from_db()
        return campaign.status == CampaignStatus.COMPLETED

    try:
        wait_until(done, timeout=timeout, what="campaign completed")
    except TimeoutError:
        counts = dict(Message.objects.filter(campaign=campaign).values_list("status").annotate(Count("id")))
        pytest.fail(f"campaign not completed: {counts}\nsimulator: {sim.counters}\n{platform.logs()}")


@pytest.mark.parametrize("report_id", ["original", "queued"])
def test_an_mms_campaign_of_200_ends_with_the_simulator_s_chosen_outcomes(
    platform, simulator, system_id, report_id
) -> None:
    """Reports naming our X-Mms-Message-ID (3GPP TS 23.140) or the queued-as id: every message final."""
    sim = simulator
    campaign = _make_campaign(system_id, sim.port, 200)
    platform.start_dispatch_worker()
    platform.start_mm4_worker(system_id)
    assert sim.wait_for_counter("auth_attempts", 1, timeout=60), platform.logs()  # the worker logged in
    platform.start_beat()
    actions.send_now(campaign=campaign)
    _wait_completed(campaign, platform, sim, timeout=300)

    # Every message ends with the outcome the simulator drew for it, through the receiver.
    chosen = {"+" + m["numbers"][0]: MM_STATUS[m["outcome"].lower()] for m in sim.messages}
    final = dict(Message.objects.filter(campaign=campaign).values_list("phone", "status"))
    assert len(final) == 200 and final == chosen
    assert set(Counter(final.values())) == {S.DELIVERED, S.REJECTED, S.EXPIRED, S.UNKNOWN}  # none left accepted
    # Sent once each, over one session, as MM4 with the campaign's content.
    assert sim.counters["accepted"] == 200 and len(chosen) == 200
    assert sim.counters["auth_attempts"] == 1 and sim.counters["connections"] == 1
    rows = MessagePart.objects.filter(message__campaign=campaign).values_list(
        "message__phone", "provider_message_id", "local_message_id"
    )
    parts = {phone: (theirs, ours) for phone, theirs, ours in rows}
    # Both ids of every part: the provider's queued-as id, and ours as it went out in the MMS.
    assert parts == {
        "+" + m["numbers"][0]: (m["id"].lower(), mm4.normalise_message_id(m["x_mms_message_id"])) for m in sim.messages
    }
    sample = mm4.parse_mm4(sim.messages[0]["data"])
    assert sample.header("Subject") == "Spring sale" and sample.media[0].data == PNG
    assert len(list(Path(sim.config.eml_dir).glob("*.eml"))) == 200
    # Both reports of every message went through the inbox and were applied.
    receipts = Receipt.objects.filter(account=campaign.account)
    assert receipts.count() == 400 and set(receipts.values_list("state", flat=True)) == {"applied"}
    assert set(receipts.values_list("channel", flat=True)) == {"mm4"}
    # ...each matched by the id the reports named.
    named = {ours if report_id == "original" else theirs for theirs, ours in parts.values()}
    assert set(receipts.values_list("provider_message_id", flat=True)) == named


def test_a_wrong_api_key_stops_mms_sending_after_one_attempt(platform, simulator, system_id) -> None:
    sim = simulator
    campaign = _make_campaign(system_id, sim.port, 20, key="not-the-key")
    platform.start_dispatch_worker()
    platform.start_mm4_worker(system_id)
    platform.start_beat()
    actions.send_now(campaign=campaign)

    def stopped() -> bool:
        return bool(Account.objects.get(system_id=system_id).mm4_stopped_reason)

    wait_until(stopped, timeout=60, what="the account's MMS sending to stop")
    assert Account.objects.get(system_id=system_id).mm4_stopped_reason.startswith("MM4 login refused: 535")
    # No retry loop: for 5 s (ten ticks) nobody logs in again and nothing is sent.
    assert not sim.wait_for_counter("auth_attempts", 2, timeout=5)
    assert sim.counters["auth_attempts"] == 1 and sim.counters["messages"] == 0
    statuses = set(Message.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses <= {S.PENDING, S.QUEUED}, statuses


def test_a_warm_shutdown_sends_the_batch_in_hand_and_a_restart_sends_the_rest(platform, simulator, system_id) -> None:
    sim = simulator
    campaign = _make_campaign(system_id, sim.port, 60, rate=10)  # batches of 10, a second each
    platform.start_dispatch_worker()
    platform.start_mm4_worker(system_id)
    assert sim.wait_for_counter("auth_attempts", 1, timeout=60), platform.logs()
    platform.start_beat()
    actions.send_now(campaign=campaign)
    assert sim.wait_for_messages(5, timeout=60), platform.logs()
    platform.kill(f"mm4-{system_id}", signal.SIGTERM)  # warm: returns once the worker has exited
    parts = MessagePart.objects.filter(message__campaign=campaign)
    assert not BatchInFlight.objects.exclude(on_wire=[]).exists()  # the batch in hand was sent to its end...
    assert not parts.filter(error="worker stopping").exists()  # ...not handed back half-done
    assert parts.exclude(provider_message_id=None).count() == sim.counters["accepted"]
    platform.start_mm4_worker(system_id)
    _wait_completed(campaign, platform, sim, timeout=300)
    numbers = [m["numbers"][0] for m in sim.messages]
    assert len(numbers) == 60 and len(set(numbers)) == 60  # everyone once, nobody twice
