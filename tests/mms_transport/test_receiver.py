"""The inbound MM4 receiver with the real database: reports stored before 250, 451 when they cannot
be, accounts found by domain, optional AUTH and TLS, and the whole loop with the simulator."""

from __future__ import annotations

import ssl
from collections import Counter
from datetime import UTC, datetime

import pytest

from campaigns.models import Account, Message, MessagePart, Receipt, ReceiptState
from campaigns.services.receipts import apply_receipts
from campaigns.statuses import MessageStatus as S
from mms_transport import mm4, worker
from mms_transport.adapter import MM_STATUS
from mms_transport.client import AuthRefused, Endpoint, MM4Session
from mms_transport.receiver import ReceiverConfig, ReceiverThread, account_logins, platform_handler
from tests.factories import AccountFactory, CampaignFactory
from tests.mms_transport import test_mm4_reports as golden
from tests.mms_transport.conftest import API_KEY, PROVIDER_LOGIN, SYSTEM_ID
from tests.mms_transport.test_worker import DOMAIN, mms_campaign, run_tick

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def start_receiver():
    started: list[ReceiverThread] = []

    def factory(system_id: str | None = None, **config) -> ReceiverThread:
        """The provider's login, AUTH in clear allowed on loopback unless the test says otherwise."""
        options = {
            "auth": dict([PROVIDER_LOGIN]),
            "plain_auth_loopback": True,
            "account_logins": account_logins,
            **config,
        }
        receiver = ReceiverThread(platform_handler(system_id=system_id), ReceiverConfig(port=0, **options)).start()
        started.append(receiver)
        return receiver

    yield factory
    for receiver in started:
        receiver.stop()


def report(message_id: str = "ABC123", status: str = "Retrieved", kind: str = mm4.DELIVERY_REPORT_REQ) -> bytes:
    header = "X-Mms-MM-Status-Code" if kind == mm4.DELIVERY_REPORT_REQ else "X-Mms-Request-Status-Code"
    msg = mm4.build_report(
        message_type=kind,
        transaction_id="t1",
        message_id=message_id,
        sender="+447700900123",
        recipient="+15550100",
        originator_domain=DOMAIN,
        recipient_domain="mmsc.example.net",
        date=datetime(2026, 3, 1, tzinfo=UTC),
        status_header=header,
        status=status,
    )
    return mm4.to_bytes(msg)


def deliver(port: int, data: bytes, *, rcpt: str = f"system-user@{DOMAIN}", **endpoint):
    """One report over one session, logged in as the provider unless ``username`` says otherwise."""
    login = {"username": PROVIDER_LOGIN[0], "password": PROVIDER_LOGIN[1], "tls": False, "timeout_s": 5}
    session = MM4Session(Endpoint(endpoint.pop("host", "127.0.0.1"), port, **{**login, **endpoint}))
    session.connect()
    try:
        return session.send("system-user@mmsc.example.net", rcpt, data)
    finally:
        session.close()


def test_a_report_is_in_the_inbox_before_the_250(start_receiver) -> None:
    account = AccountFactory(mm4_originator_domain=DOMAIN)
    receiver = start_receiver()
    result = deliver(receiver.port, report('"AbC123"', "Expired"))
    assert (result.outcome, result.reply) == ("accepted", "OK stored")
    [row] = Receipt.objects.all()
    assert (row.account_id, row.provider_message_id, row.status, row.stat, row.channel) == (
        account.id,
        "abc123",
        "expired",
        "Expired",
        "mm4",
    )
    assert "X-Mms-MM-Status-Code: Expired" in row.raw
    forward_res = deliver(receiver.port, report("AbC123", "Error-service-denied", mm4.FORWARD_RES))
    assert forward_res.outcome == "accepted"
    assert Receipt.objects.get(stat__startswith="Error").status == "rejected"


def test_every_mm4_type_is_taken_and_only_delivery_reports_and_forward_res_move_the_part(start_receiver) -> None:
    account = AccountFactory(mm4_originator_domain=DOMAIN)
    message = Message.objects.create(
        campaign=CampaignFactory(account=account), phone="+447700900123", status="accepted"
    )
    part = MessagePart.objects.create(
        message=message,
        account=account,
        status="accepted",
        provider_message_id="5f3a9c21ab",
        local_message_id=golden.OURS,
    )
    receiver = start_receiver()
    for data in (golden.FORWARD_RES, golden.READ_REPLY, golden.UNKNOWN_TYPE, golden.DELIVERY_REPORT_RES):
        result = deliver(receiver.port, data)
        assert (result.outcome, result.reply) == ("accepted", "OK stored"), data
    states = sorted(Receipt.objects.values_list("stat", "state"))
    assert states == [
        ("Deleted without ", ReceiptState.INFO),
        ("MM4_delivery_rep", ReceiptState.INFO),
        ("MM4_future_notic", ReceiptState.INFO),
        ("Ok", ReceiptState.PENDING),
    ]
    assert apply_receipts() == 1  # the forward.RES, by our id; a read-reply is not a delivery status
    part.refresh_from_db()
    assert part.status == "accepted"
    assert deliver(receiver.port, golden.DELIVERY_REPORT).reply == "OK stored"
    assert apply_receipts() == 1
    part.refresh_from_db()
    assert part.status == "delivered" and Message.objects.get().status == "delivered"
    assert set(Receipt.objects.exclude(state=ReceiptState.INFO).values_list("state", "part_id")) == {
        (ReceiptState.APPLIED, part.id)
    }


def test_an_unknown_domain_is_refused_at_rcpt(start_receiver) -> None:
    AccountFactory(mm4_originator_domain=DOMAIN)
    result = deliver(start_receiver().port, report(), rcpt="system-user@someone-else.example")
    assert (result.outcome, result.code) == ("failed", 550)
    assert "No account receives MM4 reports for someone-else.example" in result.reply
    assert Receipt.objects.count() == 0


def test_a_fixed_system_id_takes_reports_for_any_domain(start_receiver) -> None:
    account = AccountFactory(system_id="fixed01")
    result = deliver(start_receiver(system_id="fixed01").port, report(), rcpt="anything@any.example")
    assert result.outcome == "accepted" and Receipt.objects.get().account_id == account.id


def test_a_report_the_database_cannot_take_gets_451(start_receiver) -> None:
    account = AccountFactory(mm4_originator_domain=DOMAIN)
    receiver = start_receiver()
    assert deliver(receiver.port, report("first")).outcome == "accepted"  # the account id is now cached
    Account.objects.filter(id=account.id).delete()  # the insert now violates the foreign key
    result = deliver(receiver.port, report("second"))
    assert (result.outcome, result.code) == ("retry", 451)
    assert result.reply == "451 4.3.0 Could not store the report, try again later"


@pytest.mark.parametrize(
    ("data", "reply"),
    [
        (b"Subject: hello\r\n\r\nnot mm4\r\n", "554 5.6.0 Not a readable MM4 report"),
        (report(kind=mm4.FORWARD_REQ), "554 5.6.0 MM4_forward.REQ is not accepted here: MO MMS is not supported"),
        (report("   "), "554 5.6.0 Not a readable MM4 report: unusable MM4 message id"),
    ],
)
def test_what_is_not_a_report_is_refused(start_receiver, data, reply) -> None:
    AccountFactory(mm4_originator_domain=DOMAIN)
    result = deliver(start_receiver().port, data)
    assert result.outcome == "failed" and result.reply.startswith(reply)


def test_auth_is_required(start_receiver, raw) -> None:
    AccountFactory(mm4_originator_domain=DOMAIN)
    receiver = start_receiver(auth={"provider": "s3cret"})
    client = raw(receiver.port)
    client.cmd("EHLO provider")
    assert client.cmd("MAIL FROM:<system-user@mmsc.example.net>").startswith("530 ")
    with pytest.raises(AuthRefused, match="535"):
        deliver(receiver.port, report(), username="provider", password="wrong")
    assert deliver(receiver.port, report(), username="provider", password="s3cret").outcome == "accepted"


def test_implicit_tls_with_the_simulator_verifying_the_receiver(start_receiver, make_sim, certs, raw) -> None:
    AccountFactory(mm4_originator_domain=DOMAIN)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs["server"], certs["key"])
    receiver = start_receiver(ssl_context=context, plain_auth_loopback=False)
    sim = make_sim(receiver=("localhost", receiver.port), receiver_tls=True, receiver_ca_file=certs["ca"])
    client = raw(sim.port)
    client.login()
    client.cmd("MAIL FROM:<15550100@mms.test.example>")
    client.cmd("RCPT TO:<447700900123@127.0.0.1>")
    client.cmd("DATA")
    body = mm4.to_bytes(
        mm4.build_forward_request(
            mm4.ForwardRequest(
                sender="+15550100",
                recipient="+447700900123",
                originator_domain=DOMAIN,
                recipient_domain="127.0.0.1",
                transaction_id="t",
                message_id="m@x",
                date=datetime(2026, 3, 1, tzinfo=UTC),
                text="hi",
            )
        )
    )
    client.send(body + b".\r\n")
    assert client.read().startswith("250 queued as ")
    assert sim.wait_for_counter("reports_sent", 2, timeout=20), sim.reports
    # Standard reports: they name the message by the X-Mms-Message-ID it was sent with.
    assert set(Receipt.objects.values_list("provider_message_id", "status")) == {
        ("m@x", "accepted"),
        ("m@x", "delivered"),
    }


def test_an_mms_whose_answer_was_lost_is_settled_by_a_standard_report(start_receiver, make_sim) -> None:
    sim = make_sim(drop_after_data={"447911100000"})  # reads the message, then hangs up: no 250
    account = AccountFactory(
        system_id=SYSTEM_ID,
        mm4_host="127.0.0.1",
        mm4_port=sim.port,
        mm4_tls=False,
        mm4_api_key=API_KEY,
        mm4_originator_domain=DOMAIN,
        mms_rate=50,
    )
    worker.open_link(account.system_id)
    try:
        campaign = mms_campaign(account, n=1)
        assert run_tick() == [{"unknown": 1}]
    finally:
        worker.close_link()
    message = Message.objects.get(campaign=campaign)
    part = message.parts.get()
    assert (message.status, part.provider_message_id) == (S.UNKNOWN, None)
    # The MMSC did queue it after all: its TS 23.140 report names the X-Mms-Message-ID we sent.
    assert deliver(start_receiver().port, report(part.local_message_id.upper(), "Retrieved")).outcome == "accepted"
    assert apply_receipts() == 1
    message.refresh_from_db()
    assert message.status == S.DELIVERED


def test_the_whole_loop_every_message_ends_with_the_simulator_s_outcome(start_receiver, make_sim) -> None:
    receiver = start_receiver()
    outcomes = {"Retrieved": 50, "Rejected": 15, "Expired": 15, "Indeterminate": 10, "Deferred": 10}
    sim = make_sim(receiver=("127.0.0.1", receiver.port), outcomes=outcomes, seed=5)
    account = AccountFactory(
        system_id=SYSTEM_ID,
        mm4_host="127.0.0.1",
        mm4_port=sim.port,
        mm4_tls=False,
        mm4_api_key=API_KEY,
        mm4_originator_domain=DOMAIN,
        mms_rate=50,
    )
    worker.open_link(account.system_id)
    try:
        campaign = mms_campaign(account, n=40)
        assert sum(c.get("accepted", 0) for c in run_tick()) == 40
    finally:
        worker.close_link()
    assert sim.wait_for_counter("reports_sent", 80, timeout=30), sim.counters
    apply_receipts()
    chosen = {"+" + m["numbers"][0]: MM_STATUS[m["outcome"].lower()] for m in sim.messages}
    final = dict(Message.objects.filter(campaign=campaign).values_list("phone", "status"))
    assert final == chosen
    assert Counter(chosen.values()).keys() == {"delivered", "rejected", "expired", "unknown", "accepted"}
