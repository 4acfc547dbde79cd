"""The MM4 sender worker's batch logic against the simulator and the real database.

The domain's batch task is called directly, in this process, where ``open_link`` registered
the sender: the tick claims messages, the worker sends them through its one session, the answers land on the parts.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from campaigns.models import Account, Campaign, Channel, Contact, Message, MessagePart
from campaigns.services import campaign_actions as actions
from campaigns.services.dispatch import tick
from campaigns.services.mms import add_media
from campaigns.statuses import MessageStatus as S
from campaigns.tasks import send_batch_task
from mms_transport import mm4, worker
from tests.factories import AccountFactory, RecipientListFactory
from tests.media_samples import png
from tests.mms_transport.conftest import API_KEY, SYSTEM_ID

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]

PNG = png()
DOMAIN = "mms.test.example"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sim(make_sim):
    return make_sim()


@pytest.fixture
def account(sim) -> Account:
    return AccountFactory(
        system_id=SYSTEM_ID,
        mm4_host="127.0.0.1",
        mm4_port=sim.port,
        mm4_tls=False,
        mm4_api_key=API_KEY,
        mm4_originator_domain=DOMAIN,
        mms_rate=50,
    )


@pytest.fixture
def link(account):
    yield worker.open_link(account.system_id)
    worker.close_link()


def mms_campaign(account: Account, n: int = 3, sender: str = "+15550100") -> Campaign:
    lst = RecipientListFactory()
    Contact.objects.bulk_create(
        Contact(recipient_list=lst, phone=f"+4479111{i:05d}", first_name=f"N{i}") for i in range(n)
    )
    campaign = Campaign.objects.create(
        name="mms",
        account=account,
        channel=Channel.MMS,
        sender=sender,
        body="Hi {{ first_name }}, sale on!",
        mms_subject="Spring sale",
    )
    campaign.recipient_lists.add(lst)
    add_media(campaign=campaign, file=ContentFile(PNG, name="photo.png"))
    actions.send_now(campaign=campaign)
    return campaign


def run_tick(now=None) -> list[dict[str, int]]:
    batches = tick(enqueue=lambda b: None, now=now)
    return [send_batch_task(Channel.MMS, b.message_ids, b.claim) for b in batches if b.channel == Channel.MMS]


def parts(campaign: Campaign) -> dict[str, MessagePart]:
    rows = MessagePart.objects.filter(message__campaign=campaign).select_related("message")
    return {p.message.phone: p for p in rows}


def test_a_batch_goes_out_as_mm4_and_every_part_keeps_the_provider_id(sim, account, link) -> None:
    campaign = mms_campaign(account)
    assert run_tick() == [{"accepted": 3}]
    by_phone = parts(campaign)
    assert {p.status for p in by_phone.values()} == {S.ACCEPTED}
    for record in sim.messages:
        phone = "+" + record["numbers"][0]
        assert by_phone[phone].provider_message_id == record["id"].lower()  # normalised once
        # ...and ours: the X-Mms-Message-ID the message went out with, which standard reports name.
        assert by_phone[phone].local_message_id == mm4.normalise_message_id(record["x_mms_message_id"])
        assert by_phone[phone].local_message_id.endswith(f"@{DOMAIN}")
        assert record["mail_from"] == f"15550100@{DOMAIN}" and record["rcpts"] == [f"{phone[1:]}@127.0.0.1"]
        message = mm4.parse_mm4(record["data"])
        assert message.header("From") == f"+15550100/TYPE=PLMN@{DOMAIN}"
        assert message.header("To") == f"{phone}/TYPE=PLMN@127.0.0.1"
        assert message.header("Subject") == "Spring sale"
        assert message.text == f"Hi N{int(phone[-5:])}, sale on!"  # personalised per recipient
        assert [(p.content_type, p.content_location, p.data) for p in message.media] == [
            ("image/png", by_phone[phone].message.campaign.media.get().file.name.rsplit("/", 1)[-1], PNG)
        ]
    assert sim.counters["connections"] == 1 and sim.counters["auth_attempts"] == 1


def test_a_wrong_key_stops_the_account_s_mms_without_a_retry_loop(sim, account, caplog) -> None:
    caplog.set_level("DEBUG")
    Account.objects.filter(id=account.id).update(mm4_api_key="wrong-key")
    worker.open_link(account.system_id)
    try:
        account.refresh_from_db()
        assert account.mm4_stopped_reason == "MM4 login refused: 535 5.7.8 Authentication credentials invalid"
        campaign = mms_campaign(account)
        assert run_tick() == []  # the tick hands a stopped account no MMS batches
        # A batch already on its way when the login failed is handed back, unsent.
        Account.objects.filter(id=account.id).update(mm4_stopped_reason="")
        batches = tick(enqueue=lambda b: None)
        Account.objects.filter(id=account.id).update(mm4_stopped_reason="MM4 login refused")
        assert send_batch_task(Channel.MMS, batches[0].message_ids, batches[0].claim) == {"released": 3}
        assert set(Message.objects.filter(campaign=campaign).values_list("status", flat=True)) == {S.PENDING}
        assert sim.counters["auth_attempts"] == 1  # one attempt, ever
        # The operator fixes the key and clears the reason: the same worker sends, no restart.
        Account.objects.filter(id=account.id).update(mm4_api_key=API_KEY, mm4_stopped_reason="")
        assert run_tick() == [{"accepted": 3}]
        assert sim.counters["auth_attempts"] == 2
        assert "wrong-key" not in caplog.text and API_KEY not in caplog.text  # keys never reach a log
    finally:
        worker.close_link()


def test_clearing_the_stop_allows_one_new_login_with_the_same_key(sim, account) -> None:
    sim.config.accounts[SYSTEM_ID] = "provider-side-mixup"
    worker.open_link(account.system_id)
    try:
        account.refresh_from_db()
        assert account.mm4_stopped_reason.startswith("MM4 login refused")
        sim.config.accounts[SYSTEM_ID] = API_KEY  # the provider fixes it on its side
        Account.objects.filter(id=account.id).update(mm4_stopped_reason="")
        mms_campaign(account)
        assert run_tick() == [{"accepted": 3}]
        assert sim.counters["auth_attempts"] == 2
    finally:
        worker.close_link()


def test_refused_mid_batch_releases_the_rest(sim, account, link) -> None:
    campaign = mms_campaign(account, n=4)
    batches = tick(enqueue=lambda b: None)
    sim.drop_connections()
    assert sim.wait_for(lambda: sim.open_connections == 0)
    sim.config.accounts[SYSTEM_ID] = "rotated-by-the-provider"
    assert send_batch_task(Channel.MMS, batches[0].message_ids, batches[0].claim) == {"retry": 1, "released": 3}
    account.refresh_from_db()
    assert account.mm4_stopped_reason.startswith("MM4 login refused: 535")
    statuses = sorted(Message.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses == [S.PENDING] * 4  # one retried with backoff (its send found the session gone), three released


def test_4xx_is_retried_later_and_5xx_fails_with_the_provider_s_words(sim, account, link) -> None:
    sim.set_recipient_reply("447911100000", "451 4.3.0 Try again later")
    sim.set_data_reply("447911100001", "554 5.6.0 Content refused")
    campaign = mms_campaign(account)
    assert run_tick() == [{"retry": 1, "failed": 1, "accepted": 1}]
    by_phone = parts(campaign)
    busy, refused = by_phone["+447911100000"], by_phone["+447911100001"]
    assert (busy.status, busy.attempts, busy.error) == (S.PENDING, 1, "451 4.3.0 Try again later")
    assert (refused.status, refused.error_code, refused.error) == (S.FAILED, 554, "554 5.6.0 Content refused")
    busy_message = Message.objects.get(id=busy.message_id)
    assert busy_message.status == S.PENDING and busy_message.not_before > timezone.now()
    sim.set_recipient_reply("447911100000", None)
    assert run_tick(now=busy_message.not_before + timedelta(seconds=1)) == [{"accepted": 1}]
    busy.refresh_from_db()
    assert busy.status == S.ACCEPTED and busy.provider_message_id == sim.messages[-1]["id"].lower()


def test_no_reply_after_the_data_is_unknown(make_sim, account) -> None:
    sim = make_sim(drop_after_data={"447911100001"})
    Account.objects.filter(id=account.id).update(mm4_port=sim.port)
    worker.open_link(account.system_id)
    try:
        campaign = mms_campaign(account)
        assert run_tick() == [{"accepted": 2, "unknown": 1}]
        lost = parts(campaign)["+447911100001"]
        assert lost.status == S.UNKNOWN and lost.provider_message_id is None
        assert lost.local_message_id.startswith(f"{lost.message_id}.1.")  # it went out with our id
    finally:
        worker.close_link()


def test_a_sender_that_is_not_a_number_fails_clearly(sim, account, link) -> None:
    campaign = mms_campaign(account, n=1, sender="DemoShop")
    assert run_tick() == [{"failed": 1}]
    [part] = parts(campaign).values()
    assert part.error == "the MMS sender 'DemoShop' is not a phone number in international format"
    assert sim.counters["messages"] == 0


def test_unreadable_media_make_the_parts_retry(sim, account, link) -> None:
    campaign = mms_campaign(account, n=2)
    media = campaign.media.get()
    media.file.storage.delete(media.file.name)
    assert run_tick() == [{"retry": 2}]
    assert {p.error.split(":")[0] for p in parts(campaign).values()} == {"cannot read the campaign's media"}


def test_the_bootstep_is_added_to_the_worker_and_the_domain_task_is_registered() -> None:
    from config.celery import app

    assert "mms_transport.worker:MM4SessionStep" in app.steps["worker"]
    assert send_batch_task.name == "campaigns.send_batch" and "campaigns.send_batch" in app.tasks


def test_a_closed_link_withdraws_its_sender(sim, account) -> None:
    from campaigns.services import senders

    worker.open_link(account.system_id)
    assert isinstance(senders.registered("mms"), worker.Mm4Sender)
    worker.close_link()
    assert senders.registered("mms") is None
