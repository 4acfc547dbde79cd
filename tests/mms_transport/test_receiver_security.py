"""Issue 15, finding 2: the MM4 receiver trusted anyone. Real sockets, the real database.

Who may deliver reports (AUTH required, the provider's login for every account, an account's
own login for that account only), AUTH only over TLS or from loopback when allowed, the peer
allow-list, the AUTH throttle, the refusal to start without credentials, and the finding
itself: reports planted for the next provider ids can no longer pre-empt the real ones.
"""

from __future__ import annotations

import base64
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Message, Receipt, ReceiptState
from campaigns.services.receipts import apply_receipts
from campaigns.statuses import MessageStatus as S
from config.env import env_credentials
from mms_transport import worker
from mms_transport.client import AuthRefused
from mms_transport.receiver import ReceiverConfig, ReceiverConfigError, ReceiverThread, account_logins, platform_handler
from mms_transport.receiver_security import parse_networks
from tests.factories import AccountFactory, CampaignFactory
from tests.mms_transport.conftest import API_KEY, PROVIDER_LOGIN, SYSTEM_ID
from tests.mms_transport.test_receiver import deliver, report
from tests.mms_transport.test_worker import DOMAIN, mms_campaign, run_tick

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(90)]

OTHER_DOMAIN = "mms.other.example"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def receiver():
    started: list[ReceiverThread] = []

    def factory(**config) -> ReceiverThread:
        options = {"port": 0, "account_logins": account_logins, **config}
        r = ReceiverThread(platform_handler(), ReceiverConfig(**options)).start()
        started.append(r)
        return r

    yield factory
    for r in started:
        r.stop()


def outside_address() -> str | None:
    """A non-loopback address of this machine, so a test can be a peer that is not loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.254", 9))  # no packet is sent: this only picks the route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def plain(user: str, password: str) -> str:
    return "AUTH PLAIN " + base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def _tls_server(certs) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs["server"], certs["key"])
    return context


def _tls_client(certs) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certs["ca"])


# -- no credentials, no start -----------------------------------------------------------------


def test_without_any_credential_the_receiver_refuses_to_start_and_says_how_to_configure(receiver) -> None:
    AccountFactory(mm4_originator_domain=DOMAIN)  # no inbound login
    with pytest.raises(ReceiverConfigError, match="MM4_RECEIVER_AUTH=user:password") as refused:
        receiver(auth={}, plain_auth_loopback=True)
    assert "MM4 inbound user" in str(refused.value) and "--insecure-local-demo" in str(refused.value)


def _command(*args: str) -> None:
    """``manage.py mm4_receiver`` in a thread of its own, as in its own process: the command
    runs its event loop with asyncio.run, which refuses a thread that already has one (the
    browser tests' Playwright leaves one in the main thread)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(call_command, "mm4_receiver", *args).result(timeout=60)


def test_the_command_refuses_to_start_without_credentials_and_has_no_auth_option(settings) -> None:
    settings.MM4_RECEIVER_AUTH = {}
    settings.MM4_RECEIVER_PLAIN_AUTH_LOOPBACK = True
    with pytest.raises(CommandError, match="refusing to start: the MM4 receiver has no credentials"):
        _command("--port", "0")
    with pytest.raises(CommandError, match="only listens on a loopback host"):
        _command("--port", "0", "--host", "0.0.0.0", "--insecure-local-demo")
    with pytest.raises((CommandError, TypeError)):  # a password on the command line is not an option
        _command("--port", "0", "--auth", "provider:pw")


def test_an_account_s_own_login_is_enough_to_start(receiver) -> None:
    AccountFactory(mm4_originator_domain=DOMAIN, mm4_inbound_username="acct-a", mm4_inbound_password="pw-a-123")
    r = receiver(auth={}, plain_auth_loopback=True)
    assert deliver(r.port, report(), username="acct-a", password="pw-a-123").outcome == "accepted"


def test_mm4_receiver_auth_is_parsed_from_the_environment_without_echoing_a_password(monkeypatch) -> None:
    monkeypatch.setenv("MM4_RECEIVER_AUTH", "mmsc:pw:with:colons, second:pw2")
    assert env_credentials("MM4_RECEIVER_AUTH") == {"mmsc": "pw:with:colons", "second": "pw2"}
    monkeypatch.setenv("MM4_RECEIVER_AUTH", "mmsc:ok,broken-hunter2")
    with pytest.raises(Exception, match="MM4_RECEIVER_AUTH: entry 2 is not user:password") as bad:
        env_credentials("MM4_RECEIVER_AUTH")
    assert "hunter2" not in str(bad.value)


# -- AUTH only over TLS ------------------------------------------------------------------------


def test_auth_in_clear_refuses_to_start_unless_allowed_for_loopback(receiver) -> None:
    AccountFactory(mm4_originator_domain=DOMAIN)
    with pytest.raises(ReceiverConfigError, match="AUTH over TLS only: set MM4_RECEIVER_TLS_CERT"):
        receiver(auth=dict([PROVIDER_LOGIN]))


def test_plain_auth_is_refused_to_a_peer_that_is_not_loopback(receiver, raw) -> None:
    address = outside_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    AccountFactory(mm4_originator_domain=DOMAIN)
    r = receiver(host="0.0.0.0", auth=dict([PROVIDER_LOGIN]), plain_auth_loopback=True)
    outside = raw(r.port, host=address)
    ehlo = outside.cmd("EHLO provider")
    assert "AUTH" not in ehlo
    assert outside.cmd(plain(*PROVIDER_LOGIN)).startswith("538 5.7.11 Encryption required")
    assert outside.cmd("MAIL FROM:<a@b.example>").startswith("530 ")
    # From loopback, with MM4_RECEIVER_PLAIN_AUTH_LOOPBACK=on, the same login works in clear.
    assert deliver(r.port, report()).outcome == "accepted"


def test_over_implicit_tls_auth_is_offered_and_works(receiver, raw, certs) -> None:
    AccountFactory(mm4_originator_domain=DOMAIN)
    r = receiver(auth=dict([PROVIDER_LOGIN]), ssl_context=_tls_server(certs))
    client = raw(r.port, context=_tls_client(certs))
    assert "AUTH LOGIN PLAIN" in client.cmd("EHLO provider")
    assert client.login(*PROVIDER_LOGIN).startswith("235 ")
    result = deliver(r.port, report(), host="localhost", tls=True, ca_file=certs["ca"])
    assert result.outcome == "accepted"


# -- the throttle ------------------------------------------------------------------------------


def test_wrong_passwords_are_throttled_per_peer_address(receiver, raw, certs) -> None:
    AccountFactory(mm4_originator_domain=DOMAIN)
    r = receiver(
        host="0.0.0.0",
        auth=dict([PROVIDER_LOGIN]),
        ssl_context=_tls_server(certs),
        auth_failure_limit=3,
        auth_cooloff_s=600,
    )
    client = raw(r.port, context=_tls_client(certs))
    assert client.login(PROVIDER_LOGIN[0], "guess-1").startswith("535 5.7.8")
    assert client.cmd(plain(PROVIDER_LOGIN[0], "guess-2")).startswith("535 5.7.8")
    third = client.cmd(plain(PROVIDER_LOGIN[0], "guess-3"))  # the limit
    assert third.startswith("421 4.7.0 Too many failed logins from 127.0.0.1; try again in 600 s")
    assert client.closed()
    # A new connection from that address is refused before it can try, even with the right password.
    again = raw(r.port, context=_tls_client(certs))
    assert again.greeting.startswith("421 4.7.0 Too many failed logins from 127.0.0.1")
    assert again.closed()
    with pytest.raises(Exception, match="421|closed|Connection"):
        deliver(r.port, report(), host="localhost", tls=True, ca_file=certs["ca"])
    assert Receipt.objects.count() == 0
    # Another address is not affected.
    address = outside_address()
    if address is not None:
        other = raw(r.port, context=_tls_client(certs), host=address)
        assert other.greeting.startswith("220 ") and other.login(*PROVIDER_LOGIN).startswith("235 ")


def test_a_right_password_before_the_limit_resets_the_count(receiver) -> None:
    AccountFactory(mm4_originator_domain=DOMAIN)
    r = receiver(auth=dict([PROVIDER_LOGIN]), plain_auth_loopback=True, auth_failure_limit=2)
    with pytest.raises(AuthRefused, match="535"):
        deliver(r.port, report(), password="wrong")
    assert deliver(r.port, report("r1")).outcome == "accepted"
    with pytest.raises(AuthRefused, match="535"):
        deliver(r.port, report(), password="wrong")
    assert deliver(r.port, report("r2")).outcome == "accepted"


# -- the allow-list ----------------------------------------------------------------------------


def test_mm4_receiver_allow_refuses_other_peers_with_a_clear_reply(receiver, raw) -> None:
    address = outside_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    AccountFactory(mm4_originator_domain=DOMAIN)
    r = receiver(
        host="0.0.0.0",
        auth=dict([PROVIDER_LOGIN]),
        plain_auth_loopback=True,
        allow=parse_networks(["127.0.0.0/8", "::1"]),
    )
    outside = raw(r.port, host=address)
    assert outside.greeting == f"554 5.7.1 {address} may not deliver MM4 reports here (not in MM4_RECEIVER_ALLOW)"
    assert outside.closed()
    assert deliver(r.port, report()).outcome == "accepted"  # 127.0.0.1 is in the list
    with pytest.raises(ValueError, match="'10.0.0.300/8' is not a network"):
        parse_networks(["10.0.0.300/8"])


# -- per-account logins ------------------------------------------------------------------------


def test_an_account_s_login_cannot_touch_another_account_s_messages(receiver) -> None:
    a = AccountFactory(mm4_originator_domain=DOMAIN)
    b = AccountFactory(
        mm4_originator_domain=OTHER_DOMAIN, mm4_inbound_username="acct-b", mm4_inbound_password="pw-b-123"
    )
    message = Message.objects.create(campaign=CampaignFactory(account=a), phone="+447700900123", status="accepted")
    part = message.parts.create(account=a, status="accepted", provider_message_id="a-msg-1")
    r = receiver(auth=dict([PROVIDER_LOGIN]), plain_auth_loopback=True)
    as_b = {"username": "acct-b", "password": "pw-b-123"}
    # Addressed to A's domain: refused at RCPT, nothing stored.
    refused = deliver(r.port, report("a-msg-1", "Rejected"), **as_b)
    assert (refused.outcome, refused.code) == ("failed", 550)
    assert "The login acct-b may only deliver reports for its own account" in refused.reply
    assert Receipt.objects.count() == 0
    # Addressed to B's own domain, naming A's id: filed under B, it can never match A's part.
    assert deliver(r.port, report("a-msg-1", "Rejected"), rcpt=f"system-user@{OTHER_DOMAIN}", **as_b).outcome == (
        "accepted"
    )
    assert list(Receipt.objects.values_list("account_id", flat=True)) == [b.id]
    apply_receipts()
    part.refresh_from_db()
    assert part.status == "accepted"
    # The provider's login may report for A.
    assert deliver(r.port, report("a-msg-1", "Retrieved")).outcome == "accepted"
    assert apply_receipts() == 1
    part.refresh_from_db()
    assert part.status == "delivered"


def test_a_fixed_system_id_still_checks_the_login_s_account() -> None:
    a = AccountFactory(system_id="fixed-a", mm4_originator_domain=DOMAIN)
    AccountFactory(mm4_originator_domain=OTHER_DOMAIN, mm4_inbound_username="acct-b", mm4_inbound_password="pw-b-9")
    config = ReceiverConfig(port=0, plain_auth_loopback=True, account_logins=account_logins)
    with ReceiverThread(platform_handler(system_id="fixed-a"), config) as r:
        result = deliver(r.port, report(), rcpt="x@any.example", username="acct-b", password="pw-b-9")
        assert (result.outcome, result.code) == ("failed", 550)
    assert not Receipt.objects.filter(account=a).exists()


# -- the finding: reports planted for the next provider ids --------------------------------------


def _planted_then_real(receiver, make_sim, *, plant_login: dict) -> tuple[list, dict]:
    """Plant "Rejected" for the simulator's next three queued-as ids, then send three MMS whose
    real reports say "Retrieved"; returns (final statuses, states of the planted receipts)."""
    r = receiver()
    sim = make_sim(
        receiver=("127.0.0.1", r.port),
        report_id="queued",
        forward_res=False,
        report_delay_s=1.0,
        receiver_auth=None if r.config.require_auth is False else PROVIDER_LOGIN,
    )
    account = AccountFactory(
        system_id=SYSTEM_ID,
        mm4_host="127.0.0.1",
        mm4_port=sim.port,
        mm4_tls=False,
        mm4_api_key=API_KEY,
        mm4_originator_domain=DOMAIN,
        mms_rate=50,
    )
    upcoming = [f"{sim._server._next_id + i:010X}" for i in range(3)]
    for provider_id in upcoming:
        assert deliver(r.port, report(provider_id, "Rejected"), **plant_login).outcome == "accepted"
    worker.open_link(account.system_id)
    try:
        campaign = mms_campaign(account, n=3)
        assert run_tick() == [{"accepted": 3}]
    finally:
        worker.close_link()
    assert sorted(m["id"] for m in sim.messages) == upcoming  # the guess was right
    assert sim.wait_for_counter("reports_sent", 3, timeout=30), sim.reports
    apply_receipts()
    planted = dict(Receipt.objects.filter(stat="Rejected").values_list("provider_message_id", "state"))
    return list(Message.objects.filter(campaign=campaign).values_list("status", flat=True)), planted


def test_reports_planted_without_auth_for_the_next_ids_never_pre_empt_the_real_ones(receiver, make_sim) -> None:
    """The review's attack on a receiver run without AUTH (now only --insecure-local-demo)."""
    statuses, planted = _planted_then_real(
        lambda: receiver(require_auth=False, plain_auth_loopback=True), make_sim, plant_login={"username": None}
    )
    assert statuses == [S.DELIVERED] * 3
    assert set(planted.values()) == {ReceiptState.ORPHANED} and len(planted) == 3


def test_without_a_login_nothing_can_be_planted_at_all(receiver) -> None:
    AccountFactory(mm4_originator_domain=DOMAIN)
    r = receiver(auth=dict([PROVIDER_LOGIN]), plain_auth_loopback=True)
    result = deliver(r.port, report("1000000001", "Rejected"), username=None)
    assert (result.outcome, result.code) == ("failed", 530)
    assert Receipt.objects.count() == 0


def test_the_provider_s_early_report_still_waits_for_its_answer(receiver, make_sim) -> None:
    """The race the inbox exists for: an authenticated report before the submit answer applies."""
    statuses, planted = _planted_then_real(
        lambda: receiver(auth=dict([PROVIDER_LOGIN]), plain_auth_loopback=True), make_sim, plant_login={}
    )
    assert set(planted.values()) == {ReceiptState.APPLIED}  # the provider said so first: it counts
    assert statuses == [S.REJECTED] * 3  # and a final status never moves


def test_an_inbound_login_set_in_the_admin_applies_without_a_restart(receiver) -> None:
    from campaigns.models import Account
    from tests.e2e.harness import wait_until

    account = AccountFactory(mm4_originator_domain=DOMAIN)
    r = receiver(auth=dict([PROVIDER_LOGIN]), plain_auth_loopback=True, credentials_refresh_s=0.1, auth_failure_limit=0)

    def accepted() -> bool:
        try:
            return deliver(r.port, report(), username="acct-new", password="pw-new-1").outcome == "accepted"
        except AuthRefused:
            return False

    assert not accepted()
    Account.objects.filter(id=account.id).update(mm4_inbound_username="acct-new", mm4_inbound_password="pw-new-1")
    wait_until(accepted, timeout=10, interval=0.1, what="the new login to be accepted")
    Account.objects.filter(id=account.id).update(mm4_inbound_password="")  # removed: refused again
    wait_until(lambda: not accepted(), timeout=10, interval=0.1, what="the removed login to be refused")
