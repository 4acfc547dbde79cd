"""The MM4 SMTP session against the simulator and a scripted server: AUTH, TLS verification,
reply classification (4xx retry, 5xx failed, lost after data unknown) and malformed replies."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from mms_transport import mm4
from mms_transport.client import AuthRefused, ConnectFailed, Endpoint, MM4Session, parse_queued_id
from mms_transport.simulator.config import server_tls_context
from tests.mms_transport.conftest import API_KEY, SYSTEM_ID

pytestmark = pytest.mark.timeout(60)

FROM, TO = "15550100@mms.example.com", "447700900123@127.0.0.1"


def message(text: str = "Hello", recipient: str = "+447700900123") -> bytes:
    req = mm4.ForwardRequest(
        sender="+15550100",
        recipient=recipient,
        originator_domain="mms.example.com",
        recipient_domain="127.0.0.1",
        transaction_id="t",
        message_id="m@mms.example.com",
        date=datetime(2026, 3, 1, tzinfo=UTC),
        text=text,
    )
    return mm4.to_bytes(mm4.build_forward_request(req))


@pytest.fixture
def session() -> Iterator:
    opened: list[MM4Session] = []

    def factory(port: int, **fields) -> MM4Session:
        options = {
            "host": "127.0.0.1",
            "port": port,
            "username": SYSTEM_ID,
            "password": API_KEY,
            "tls": False,
            "timeout_s": 5.0,
            **fields,
        }
        s = MM4Session(Endpoint(**options))
        opened.append(s)
        return s

    yield factory
    for s in opened:
        s.close()


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_auth_plain_and_login(make_sim, session, mechanism) -> None:
    sim = make_sim()
    s = session(sim.port, auth_mechanism=mechanism)
    s.connect()
    assert sim.auth_log == [{**sim.auth_log[0], "user": SYSTEM_ID, "mechanism": mechanism, "ok": True}]
    result = s.send(FROM, TO, message())
    assert result.outcome == "accepted" and result.provider_id == sim.messages[0]["id"]


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_a_wrong_key_is_refused_after_exactly_one_attempt(make_sim, session, mechanism) -> None:
    sim = make_sim()
    s = session(sim.port, password="wrong-key", auth_mechanism=mechanism)
    with pytest.raises(AuthRefused) as caught:
        s.connect()
    assert caught.value.code == 535
    assert "wrong-key" not in str(caught.value)
    assert len(sim.auth_log) == 1 and not s.connected


def test_the_endpoint_never_shows_the_key() -> None:
    assert API_KEY not in repr(Endpoint("h", 1, SYSTEM_ID, API_KEY))


def test_messages_arrive_byte_exact_with_leading_dots_and_rset_between(make_sim, session) -> None:
    sim = make_sim(data_replies={"447700900009": "554 5.6.0 Content refused"})
    s = session(sim.port)
    s.connect()
    body = message(".starts with a dot\n..two\n.")
    assert s.send(FROM, TO, body).outcome == "accepted"
    refused = s.send(FROM, "447700900009@127.0.0.1", message(recipient="+447700900009"))
    assert (refused.outcome, refused.code, refused.reply) == ("failed", 554, "554 5.6.0 Content refused")
    assert s.send(FROM, TO, body).outcome == "accepted"  # RSET cleaned up after the refusal
    assert [m["data"] for m in sim.messages] == [body, body]
    assert sim.counters["connections"] == 1


def test_4xx_is_retry_and_5xx_is_failed_with_the_reply_text(make_sim, session) -> None:
    sim = make_sim(
        recipient_replies={"447700900001": "451 4.3.0 Try again later", "447700900002": "550 5.1.1 Unknown subscriber"}
    )
    s = session(sim.port)
    s.connect()
    busy = s.send(FROM, "447700900001@127.0.0.1", message())
    gone = s.send(FROM, "447700900002@127.0.0.1", message())
    assert (busy.outcome, busy.code, busy.reply) == ("retry", 451, "451 4.3.0 Try again later")
    assert (gone.outcome, gone.code, gone.reply) == ("failed", 550, "550 5.1.1 Unknown subscriber")
    assert s.connected and s.send(FROM, TO, message()).outcome == "accepted"


def test_connection_lost_after_the_data_is_unknown(make_sim, session) -> None:
    sim = make_sim(drop_after_data={"447700900003"})
    s = session(sim.port)
    s.connect()
    result = s.send(FROM, "447700900003@127.0.0.1", message())
    assert result.outcome == "unknown" and not s.connected


def test_noop_tests_the_connection(make_sim, session) -> None:
    sim = make_sim()
    s = session(sim.port)
    s.connect()
    assert s.noop()
    sim.drop_connections()
    assert sim.wait_for(lambda: sim.open_connections == 0)
    assert not s.noop() and not s.connected


def test_nothing_listening_is_a_connect_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectFailed, match="cannot connect"):
        MM4Session(Endpoint("127.0.0.1", port, SYSTEM_ID, API_KEY, tls=False, timeout_s=2)).connect()


# -- TLS -------------------------------------------------------------------------------------------


@pytest.fixture
def tls_sim(make_sim, certs):
    return make_sim(port=None, tls_port=0, ssl_context=server_tls_context(certs["server"], certs["key"]))


def test_implicit_tls_with_a_verified_certificate(tls_sim, session, certs) -> None:
    s = session(tls_sim.tls_port, host="localhost", tls=True, ca_file=certs["ca"])
    s.connect()
    assert s.send(FROM, TO, message()).outcome == "accepted"
    assert tls_sim.messages[0]["tls"] is True


@pytest.mark.parametrize(
    ("host", "ca"),
    [("localhost", "other_ca"), ("localhost", None), ("127.0.0.1", "ca")],
    ids=["untrusted-ca", "system-cas", "wrong-hostname"],
)
def test_tls_refuses_what_it_cannot_verify(tls_sim, session, certs, host, ca) -> None:
    s = session(tls_sim.tls_port, host=host, tls=True, ca_file=certs[ca] if ca else None)
    with pytest.raises(ConnectFailed, match="not trusted"):
        s.connect()
    assert tls_sim.auth_log == []  # the key never left the client


# -- malformed replies (a scripted server) ------------------------------------------------------------


class ScriptedServer:
    """Answers each command from a table; None closes the connection instead of answering."""

    DEFAULTS = {
        "GREETING": b"220 scripted\r\n",
        "EHLO": b"250-scripted\r\n250 AUTH PLAIN LOGIN\r\n",
        "AUTH": b"235 ok\r\n",
        "MAIL": b"250 ok\r\n",
        "RCPT": b"250 ok\r\n",
        "DATA": b"354 go\r\n",
        "END": b"250 queued as <AbC-123>\r\n",
        "RSET": b"250 OK\r\n",
        "NOOP": b"250 OK\r\n",
        "QUIT": b"221 bye\r\n",
    }

    def __init__(self, **replies: bytes | None) -> None:
        self.replies = {**self.DEFAULTS, **replies}
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.commands: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _answer(self, conn: socket.socket, key: str) -> bool:
        reply = self.replies.get(key, b"500 what\r\n")
        if reply is None:
            conn.close()
            return False
        conn.sendall(reply)
        return True

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        file = conn.makefile("rb")
        try:
            if not self._answer(conn, "GREETING"):
                return
            while line := file.readline():
                verb = line.decode("latin-1").split(" ", 1)[0].strip().upper()
                self.commands.append(verb)
                if not self._answer(conn, verb):
                    return
                if verb == "DATA" and self.replies["DATA"].startswith(b"354"):
                    while file.readline() not in (b".\r\n", b""):
                        pass
                    if not self._answer(conn, "END"):
                        return
        except OSError:
            pass
        finally:
            conn.close()
            self.listener.close()


def scripted_send(**replies: bytes | None):
    server = ScriptedServer(**replies)
    s = MM4Session(Endpoint("127.0.0.1", server.port, SYSTEM_ID, API_KEY, tls=False, timeout_s=3))
    s.connect()
    try:
        return s.send(FROM, TO, message()), s
    finally:
        s.close()


def test_a_bracketed_queued_id_is_kept_raw_for_the_one_normaliser() -> None:
    result, _ = scripted_send()
    assert result.outcome == "accepted" and result.provider_id == "<AbC-123>"
    assert mm4.normalise_message_id(result.provider_id) == "abc-123"


@pytest.mark.parametrize(
    ("replies", "outcome"),
    [
        ({"MAIL": b"garbage\r\n"}, "retry"),
        ({"RCPT": b"\xff\xfe\x00\x01\r\n"}, "retry"),
        ({"DATA": b"250 not what you asked\r\n"}, "retry"),
        ({"MAIL": b"2" + b"5" * 9000 + b"\r\n"}, "retry"),  # longer than smtplib's line limit
        ({"RCPT": None}, "retry"),  # connection closed before the data: nothing was queued
        ({"END": b"hello there\r\n"}, "unknown"),
        ({"END": b"199 odd\r\n"}, "unknown"),
        ({"END": b"9" * 9000 + b"\r\n"}, "unknown"),
        ({"END": None}, "unknown"),
        ({"END": b"452 4.3.1 Insufficient storage\r\n"}, "retry"),
        ({"END": b"554 5.6.0 Corrupt\r\n"}, "failed"),
    ],
)
def test_malformed_or_missing_replies_are_classified_never_raised(replies, outcome) -> None:
    result, _ = scripted_send(**replies)
    assert result.outcome == outcome, result


def test_queued_without_an_id_is_accepted_with_no_id() -> None:
    result, _ = scripted_send(END=b"250 2.0.0 Ok\r\n")
    assert result.outcome == "accepted" and result.provider_id is None


@pytest.mark.parametrize(
    ("replies", "error"),
    [
        ({"GREETING": b"\x00\x01 nonsense\r\n"}, ConnectFailed),
        ({"GREETING": b"554 go away\r\n"}, ConnectFailed),
        ({"EHLO": b"502 no\r\n"}, ConnectFailed),
        ({"EHLO": None}, ConnectFailed),
        ({"AUTH": b"454 4.7.0 Temporary authentication failure\r\n"}, ConnectFailed),
        ({"AUTH": b"535 5.7.8 Authentication credentials invalid\r\n"}, AuthRefused),
        ({"AUTH": b"534 5.7.9 Mechanism too weak\r\n"}, AuthRefused),
        ({"AUTH": b"what?\r\n"}, ConnectFailed),
    ],
)
def test_login_failures_say_whether_to_retry(replies, error) -> None:
    server = ScriptedServer(**replies)
    with pytest.raises(error):
        MM4Session(Endpoint("127.0.0.1", server.port, SYSTEM_ID, API_KEY, tls=False, timeout_s=3)).connect()


def test_parse_queued_id() -> None:
    assert parse_queued_id("queued as <X1>") == "<X1>"
    assert parse_queued_id("2.0.0 Ok: Queued as 4B7C21F") == "4B7C21F"
    assert parse_queued_id("OK") is None
