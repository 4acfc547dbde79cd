"""The MM4 simulator over raw sockets: seed 001's replies to the letter, AUTH, the archive, reports.

Synchronisation goes through blocking reads with socket timeouts and the simulator's bounded
wait helpers; nothing sleeps.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mms_transport import mm4
from mms_transport.simulator.cli import parse_config
from tests.mms_transport.conftest import API_KEY, SYSTEM_ID

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[2]


def forward_req(recipient: str = "+447700900123", **overrides) -> bytes:
    fields = {
        "sender": "+15550100",
        "recipient": recipient,
        "originator_domain": "mms.example.com",
        "recipient_domain": "127.0.0.1",
        "transaction_id": "t-1",
        "message_id": "m1@mms.example.com",
        "date": datetime(2026, 3, 1, tzinfo=UTC),
        "subject": "Hi",
        "text": "Hello\n.\n..dots",
    }
    fields.update(overrides)
    return mm4.to_bytes(mm4.build_forward_request(mm4.ForwardRequest(**fields)))


def stuffed(data: bytes) -> bytes:
    return data.replace(b"\r\n.", b"\r\n..") + b".\r\n"


# -- command order (seed 001, exact text) -----------------------------------------------------------

# (commands sent first, the command under test, the exact reply)
ORDER_ERRORS = [
    ([], "AUTH LOGIN", "503 ERROR: send EHLO first"),
    ([], "AUTH PLAIN", "503 ERROR: send EHLO first"),
    ([], "MAIL FROM:<15550100@mms.example.com>", "503 ERROR: send EHLO or HELO first"),
    ([], "RCPT TO:<447700900123@127.0.0.1>", "503 ERROR: send EHLO or HELO first"),
    (["LOGIN"], "RCPT TO:<447700900123@127.0.0.1>", "503 ERROR: send MAIL first"),
    ([], "DATA", "503 ERROR: need MAIL command"),
    (["LOGIN"], "DATA", "503 ERROR: need MAIL command"),
    (["LOGIN", "MAIL FROM:<15550100@mms.example.com>"], "DATA", "503 ERROR: need RCPT command"),
    (["EHLO x"], "MAIL FROM:<15550100@mms.example.com>", "530 5.7.0 Authentication required"),
    (["HELO x"], "RCPT TO:<447700900123@127.0.0.1>", "530 5.7.0 Authentication required"),
]


@pytest.mark.parametrize(("before", "command", "reply"), ORDER_ERRORS)
def test_command_order_errors_are_the_seed_s_exact_replies(make_sim, raw, before, command, reply) -> None:
    client = raw(make_sim().port)
    for line in before:
        assert (client.login() if line == "LOGIN" else client.cmd(line)).startswith(("2", "3"))
    assert client.cmd(command) == reply


def test_the_seed_exchange_gets_the_seed_replies(make_sim, raw) -> None:
    sim = make_sim()
    client = raw(sim.port)
    assert client.greeting.startswith("220 ")
    assert client.cmd("NOOP") == "250 OK"  # before EHLO too
    ehlo = client.cmd("EHLO your_hostname").split("\n")
    assert ehlo[0].startswith("250-") and "250 AUTH PLAIN LOGIN" in ehlo and not any("STARTTLS" in x for x in ehlo)
    assert client.cmd("AUTH LOGIN") == "334 VXNlcm5hbWU6"
    assert client.cmd(base64.b64encode(SYSTEM_ID.encode()).decode()) == "334 UGFzc3dvcmQ6"
    assert client.cmd(base64.b64encode(API_KEY.encode()).decode()) == "235 Authentication successful"
    assert client.cmd("MAIL FROM:<15550100@mms.example.com>") == "250 Sender OK"
    assert client.cmd("RCPT TO:<447700900123@127.0.0.1>") == "250 Recipient OK"
    assert client.cmd("DATA") == "354 enter mail, end with line containing only '.'"
    data = forward_req()
    client.send(stuffed(data))
    reply = client.read()
    assert reply.startswith("250 queued as ")
    message_id = reply.removeprefix("250 queued as ")
    assert client.cmd("NOOP") == "250 OK"
    assert client.cmd("QUIT") == "221 BYE"
    assert client.closed()
    [record] = sim.messages
    assert record["id"] == message_id and record["data"] == data  # dot-unstuffed exactly
    assert record["numbers"] == ["447700900123"] and record["user"] == SYSTEM_ID
    assert (Path(sim.config.eml_dir) / f"{message_id}.eml").read_bytes() == data


def test_starttls_is_refused_and_vrfy_unimplemented(make_sim, raw) -> None:
    client = raw(make_sim().port)
    client.cmd("EHLO x")
    assert client.cmd("STARTTLS") == "502 5.5.1 STARTTLS disabled, use the TLS port instead"
    assert client.cmd("VRFY 447700900123") == "502 5.5.1 VRFY unimplemented"
    assert client.cmd("NOOP") == "250 OK"  # the session carries on


def test_rset_clears_the_transaction_but_keeps_the_login(make_sim, raw) -> None:
    client = raw(make_sim().port)
    client.login()
    client.cmd("MAIL FROM:<15550100@mms.example.com>")
    assert client.cmd("RSET") == "250 OK"
    assert client.cmd("DATA") == "503 ERROR: need MAIL command"
    assert client.cmd("MAIL FROM:<15550100@mms.example.com>") == "250 Sender OK"


@pytest.mark.parametrize("mechanism", ["PLAIN-initial", "PLAIN-challenge", "LOGIN"])
def test_auth_plain_and_login_accept_the_account_and_refuse_a_wrong_key(make_sim, raw, mechanism) -> None:
    sim = make_sim()
    for key, expected in (
        (API_KEY, "235 Authentication successful"),
        ("wrong", "535 5.7.8 Authentication credentials invalid"),
    ):
        client = raw(sim.port)
        client.cmd("EHLO x")
        plain = base64.b64encode(f"\0{SYSTEM_ID}\0{key}".encode()).decode()
        if mechanism == "PLAIN-initial":
            reply = client.cmd(f"AUTH PLAIN {plain}")
        elif mechanism == "PLAIN-challenge":
            assert client.cmd("AUTH PLAIN") == "334 "
            reply = client.cmd(plain)
        else:
            client.cmd("AUTH LOGIN")
            client.cmd(base64.b64encode(SYSTEM_ID.encode()).decode())
            reply = client.cmd(base64.b64encode(key.encode()).decode())
        assert reply == expected
    assert [a["ok"] for a in sim.auth_log] == [True, False]
    assert client.cmd("MAIL FROM:<15550100@mms.example.com>") == "530 5.7.0 Authentication required"


def test_auth_edge_cases(make_sim, raw) -> None:
    client = raw(make_sim().port)
    client.cmd("EHLO x")
    assert client.cmd("AUTH CRAM-MD5") == "504 5.5.4 Unrecognized authentication type"
    assert client.cmd("AUTH PLAIN !!notbase64") == "501 5.5.2 Cannot decode response"
    client.cmd("AUTH LOGIN")
    assert client.cmd("*") == "501 5.7.0 Authentication cancelled"
    assert client.login().startswith("235")
    assert client.cmd("AUTH PLAIN x") == "503 5.5.1 Already authenticated"


@pytest.mark.parametrize(
    "line",
    ["MAIL FROM:<DemoShop@mms.example.com>", "MAIL FROM:15550100@mms.example.com", "MAIL TO:<15550100@x>"],
)
def test_mail_wants_a_bare_e164_address(make_sim, raw, line) -> None:
    client = raw(make_sim().port)
    client.login()
    assert client.cmd(line).startswith("501 ")


def test_garbage_and_long_lines_get_errors_not_a_crash(make_sim, raw) -> None:
    sim = make_sim()
    client = raw(sim.port)
    assert client.cmd("\x00\xff\x01garbage") == "500 5.5.2 Command not recognized"
    assert client.cmd("") == "500 5.5.2 Command not recognized"
    client.send(b"NOOP" + b"x" * 70_000 + b"\r\n")
    assert client.read() == "500 5.5.2 Line too long"
    assert client.closed()
    assert raw(sim.port).cmd("NOOP") == "250 OK"  # the simulator is still serving


def test_a_message_that_is_not_mm4_is_refused(make_sim, raw) -> None:
    sim = make_sim()
    client = raw(sim.port)
    client.login()
    client.cmd("MAIL FROM:<15550100@mms.example.com>")
    client.cmd("RCPT TO:<447700900123@127.0.0.1>")
    client.cmd("DATA")
    client.send(b"Subject: plain mail\r\n\r\nhello\r\n.\r\n")
    assert client.read().startswith("554 5.6.0 ")
    assert sim.counters["malformed"] == 1 and sim.messages == []


def test_chosen_recipients_get_chosen_replies(make_sim, raw) -> None:
    sim = make_sim(
        recipient_replies={"447700900001": "450 4.2.1 Mailbox busy"},
        data_replies={"447700900002": "552 5.3.4 Content not accepted"},
    )
    client = raw(sim.port)
    client.login()
    client.cmd("MAIL FROM:<15550100@mms.example.com>")
    assert client.cmd("RCPT TO:<447700900001@127.0.0.1>") == "450 4.2.1 Mailbox busy"
    assert client.cmd("RCPT TO:<447700900002@127.0.0.1>") == "250 Recipient OK"
    client.cmd("DATA")
    client.send(stuffed(forward_req("+447700900002")))
    assert client.read() == "552 5.3.4 Content not accepted"
    sim.set_recipient_reply("447700900001", None)
    client.cmd("MAIL FROM:<15550100@mms.example.com>")
    assert client.cmd("RCPT TO:<447700900001@127.0.0.1>") == "250 Recipient OK"


def test_drop_after_data_closes_without_a_reply(make_sim, raw) -> None:
    sim = make_sim(drop_after_data={"447700900003"})
    client = raw(sim.port)
    client.login()
    client.cmd("MAIL FROM:<15550100@mms.example.com>")
    client.cmd("RCPT TO:<447700900003@127.0.0.1>")
    client.cmd("DATA")
    client.send(stuffed(forward_req("+447700900003")))
    assert client.closed()
    assert sim.counters["dropped_after_data"] == 1


def test_tls_listener_speaks_implicit_tls_1_2(make_sim, raw, certs) -> None:
    from mms_transport.client import tls_context
    from mms_transport.simulator.config import server_tls_context

    sim = make_sim(port=None, tls_port=0, ssl_context=server_tls_context(certs["server"], certs["key"]))
    client = raw(sim.tls_port, context=tls_context(certs["ca"]))
    assert client.sock.version() == "TLSv1.2"
    assert client.login() == "235 Authentication successful"
    assert sim.auth_log[0]["tls"] is True


_line = st.binary(max_size=200).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))


@pytest.fixture
def shared_sim(make_sim):
    """One simulator for all the examples of a hypothesis test (fixtures are not reset per example)."""
    return make_sim()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.one_of(_line, st.sampled_from([b"EHLO x", b"AUTH LOGIN", b"MAIL FROM:<1@x>", b"RSET"])), max_size=12
    )
)
def test_any_command_line_gets_a_reply_and_never_breaks_the_simulator(shared_sim, raw, lines) -> None:
    client = raw(shared_sim.port)
    for line in lines:
        if line.upper().startswith((b"DATA", b"QUIT")):
            continue  # these change the dialogue (data mode, goodbye); covered above
        reply = client.cmd(line.decode("latin-1"))
        for i, text in enumerate(reply.split("\n"), start=1):
            last = i == reply.count("\n") + 1
            assert text[:3].isdigit() and text[3:4] in ((" ", "") if last else ("-",)), reply
        if reply.startswith("334"):
            client.cmd("*")  # leave the AUTH dialogue
    assert client.cmd("NOOP") == "250 OK"


# -- reports -----------------------------------------------------------------------------------------


def _send(raw, sim, recipients: list[str]) -> list[tuple[str, str]]:
    """Send one MM4_forward.REQ per recipient; (queued-as id, our X-Mms-Message-ID) of each."""
    client = raw(sim.port)
    client.login()
    ids = []
    for number in recipients:
        ours = f"M{number.lstrip('+')}.A1@MMS.example.com"  # mixed case: ids compare normalised
        client.cmd("MAIL FROM:<15550100@mms.example.com>")
        client.cmd(f"RCPT TO:<{number.lstrip('+')}@127.0.0.1>")
        client.cmd("DATA")
        client.send(stuffed(forward_req(number, message_id=ours)))
        ids.append((client.read().removeprefix("250 queued as "), ours))
    return ids


@pytest.mark.parametrize("report_id", ["original", "queued"])
def test_reports_follow_the_seeded_outcome_mix_to_the_receiver(make_sim, raw, capture_receiver, report_id) -> None:
    receiver, capture = capture_receiver()
    outcomes = {"Retrieved": 60, "Rejected": 20, "Expired": 20}
    sim = make_sim(receiver=("127.0.0.1", receiver.port), outcomes=outcomes, seed=11, report_id=report_id)
    ids = _send(raw, sim, [f"+4477009{i:05d}" for i in range(30)])
    assert capture.wait_for(60), sim.reports  # a forward.RES and a delivery report per message
    # Both name the message by the id the flag says: its own X-Mms-Message-ID, or the queued-as id.
    referenced = {queued: (ours if report_id == "original" else queued).lower() for queued, ours in ids}
    chosen = {referenced[m["id"]]: m["outcome"] for m in sim.messages}
    reports = [r for _, r in capture.items if r.stat != "Ok"]
    assert {r.provider_message_id: r.stat for r in reports} == chosen
    assert {r.provider_message_id for _, r in capture.items if r.stat == "Ok"} == set(referenced.values())
    assert len(set(chosen.values())) == 3  # the mix really is mixed
    again = make_sim(receiver=("127.0.0.1", receiver.port), outcomes=outcomes, seed=11)
    _send(raw, again, [f"+4477009{i:05d}" for i in range(30)])
    assert [m["outcome"] for m in again.messages] == [m["outcome"] for m in sim.messages]  # reproducible


def test_a_standard_report_names_the_original_in_x_mms_message_id_and_has_its_own_message_id(
    make_sim, raw, capture_receiver
) -> None:
    receiver, capture = capture_receiver()
    sim = make_sim(receiver=("127.0.0.1", receiver.port))  # report_id="original" is the default
    [(queued, ours)] = _send(raw, sim, ["+447700900123"])
    assert capture.wait_for(2), sim.reports
    kinds = {}
    for _, receipt in capture.items:
        headers = dict(line.split(": ", 1) for line in receipt.raw.split("\n"))
        kinds[headers["X-Mms-Message-Type"]] = headers
    assert set(kinds) == {mm4.FORWARD_RES, mm4.DELIVERY_REPORT_REQ}
    for headers in kinds.values():
        assert headers["X-Mms-Message-ID"] == f"<{ours}>"  # 3GPP TS 23.140: the original MM's id
        assert headers["X-Mms-Transaction-ID"] == "t-1"  # the forward request's
        assert ours not in headers["Message-ID"] and queued not in headers["Message-ID"]  # its own
    assert len({h["Message-ID"] for h in kinds.values()}) == 2  # one RFC 5322 id per message


def test_a_report_the_receiver_could_not_store_is_sent_again(make_sim, raw, capture_receiver) -> None:
    receiver, capture = capture_receiver()
    capture.fail_next = 1  # the receiver answers 451 once
    sim = make_sim(receiver=("127.0.0.1", receiver.port), forward_res=False, report_retry_s=0.05, report_id="queued")
    [(message_id, _)] = _send(raw, sim, ["+447700900123"])
    assert sim.wait_for_counter("reports_sent", 1)
    assert [r.provider_message_id for _, r in capture.items] == [message_id.lower()]
    assert sim.counters["reports_retried"] == 1


# -- command line ------------------------------------------------------------------------------------


def test_python_dash_m_runs_the_simulator(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mms_transport.simulator",
            "--port",
            "0",
            "--account",
            f"{SYSTEM_ID}:{API_KEY}",
            "--eml-dir",
            str(tmp_path / "eml"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()
        assert line.startswith("MM4 simulator on plain 127.0.0.1:"), line
        port = int(line.split("127.0.0.1:")[1].split(";")[0])
        from tests.mms_transport.conftest import RawClient

        client = RawClient(port)
        assert client.login() == "235 Authentication successful"
        client.close()
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0


def test_options_are_checked(certs) -> None:
    config = parse_config(
        [
            "--account",
            "a:b",
            "--outcomes",
            "Retrieved=9,Rejected=1,none=1",
            "--port",
            "-1",
            "--tls-port",
            "0",
            "--tls-cert",
            certs["server"],
            "--tls-key",
            certs["key"],
        ]
    )
    assert config.port is None and config.outcomes == {"Retrieved": 9.0, "Rejected": 1.0, "none": 1.0}
    assert config.report_id == "original"  # the standard way unless told otherwise
    assert parse_config(["--account", "a:b", "--report-id", "queued"]).report_id == "queued"
    for argv in (
        ["--outcomes", "Retrieved=1"],
        ["--account", "a:b", "--outcomes", "Delivered=1"],
        ["--account", "a:b", "--tls-port", "0"],
        ["--account", "nocolon"],
        ["--account", "a:b", "--report-id", "ours"],
    ):
        with pytest.raises(SystemExit):
            parse_config(argv)
