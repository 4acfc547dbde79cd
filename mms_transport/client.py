"""One MM4 SMTP session: connect (implicit TLS or plain), EHLO, AUTH, then messages.

Wire code only: no Django. Built on :mod:`smtplib` for the line protocol, but never on its
``sendmail``/``send_message`` (they discard the reply text of DATA, which carries the
provider's id in ``250 queued as <id>``): every command is sent on its own and its reply
classified here.

Outcomes of one message (:class:`SendResult`):

- ``accepted``: 2xx after the data; ``provider_id`` from ``queued as <id>`` (may be None);
- ``retry``: a 4xx anywhere, or the connection lost before the final ``.`` was written
  (the provider cannot have queued an unfinished message), or a malformed reply before
  the data;
- ``failed``: a 5xx, with the provider's reply text as the error;
- ``unknown``: the final ``.`` was written but no well-formed reply came back (the
  provider may have queued it; resending risks a duplicate).

AUTH is tried once per connection with one mechanism: ``smtplib.login()`` would go on to the
next advertised mechanism after a 535, i.e. a second attempt with a key already refused.
"""

from __future__ import annotations

import base64
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, field

__all__ = ["AuthRefused", "ConnectFailed", "Endpoint", "MM4Session", "Reply", "SendResult", "parse_queued_id"]

MALFORMED = -1
_QUEUED = re.compile(r"queued\s+as\s+(\S+)", re.IGNORECASE)


class MM4Error(Exception):
    """Base of the session's errors."""


class ConnectFailed(MM4Error):
    """No usable session (unreachable, TLS failure, greeting or EHLO refused): try again later."""


class AuthRefused(MM4Error):
    """The provider refused the credentials (535 or another 5xx to AUTH): do not retry."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"{code} {text}".strip())
        self.code = code
        self.text = text


@dataclass(frozen=True)
class Endpoint:
    """Where and how to connect. ``password`` is the API key: kept out of ``repr``."""

    host: str
    port: int
    username: str | None = None
    password: str = field(default="", repr=False)
    tls: bool = True
    ca_file: str | None = None
    auth_mechanism: str = "PLAIN"
    timeout_s: float = 30.0
    local_hostname: str | None = None


@dataclass(frozen=True)
class Reply:
    code: int
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip() if self.code != MALFORMED else f"malformed reply: {self.text!r}"


@dataclass(frozen=True)
class SendResult:
    """What happened to one message; ``reply`` is the provider's words (for the part's error)."""

    outcome: str
    provider_id: str | None = None
    code: int | None = None
    reply: str = ""


def parse_queued_id(text: str) -> str | None:
    """``queued as <ABC>`` → ``<ABC>`` (raw: normalise with ``mm4.normalise_message_id``)."""
    match = _QUEUED.search(text)
    return match.group(1) if match else None


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context (certificate chain and host name); TLS 1.2 at least.

    ``SMTP_SSL`` without a context does not verify the provider at all.
    """
    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class MM4Session:
    """A connected, authenticated SMTP session; not thread-safe (the link holds a lock)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._smtp: smtplib.SMTP | None = None
        self._dirty = False  # a transaction was started since the last RSET

    @property
    def connected(self) -> bool:
        return self._smtp is not None

    # -- connection ---------------------------------------------------------------------------

    def connect(self) -> None:
        """Connect, EHLO and (when a username is set) AUTH once; ConnectFailed / AuthRefused."""
        self.close()
        ep = self.endpoint
        try:
            # smtplib would otherwise ask DNS for our FQDN (socket.getfqdn), which can stall.
            local = ep.local_hostname or socket.gethostname() or "localhost"
            if ep.tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    ep.host, ep.port, local_hostname=local, timeout=ep.timeout_s, context=tls_context(ep.ca_file)
                )
            else:
                smtp = smtplib.SMTP(ep.host, ep.port, local_hostname=local, timeout=ep.timeout_s)
        except ssl.SSLCertVerificationError as exc:
            raise ConnectFailed(f"TLS certificate of {ep.host} not trusted: {exc.verify_message}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise ConnectFailed(f"cannot connect to {ep.host}:{ep.port}: {_describe(exc)}") from exc
        self._smtp = smtp
        try:
            code, text = self._command("EHLO", smtp.local_hostname)
            if code != 250:
                raise ConnectFailed(f"EHLO refused: {Reply(code, text)}")
            if ep.username is not None:
                self._authenticate(smtp)
        except MM4Error:
            self.close()
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise ConnectFailed(f"connection lost during login: {_describe(exc)}") from exc
        self._dirty = False

    def _authenticate(self, smtp: smtplib.SMTP) -> None:
        ep = self.endpoint
        user, key = ep.username or "", ep.password
        mechanism = ep.auth_mechanism.upper()
        if mechanism == "PLAIN":
            token = base64.b64encode(f"\0{user}\0{key}".encode()).decode("ascii")
            code, text = self._command("AUTH", f"PLAIN {token}")
        elif mechanism == "LOGIN":
            code, text = self._command("AUTH", "LOGIN")
            for answer in (user, key):
                if code != 334:
                    break
                code, text = self._command(base64.b64encode(answer.encode()).decode("ascii"))
        else:
            raise ValueError(f"unsupported AUTH mechanism {ep.auth_mechanism!r} (PLAIN or LOGIN)")
        if code == 235:
            return
        if code == 334:  # the server wants more than the mechanism has: abandon the exchange
            self._command("*")
        if 500 <= code < 600:
            raise AuthRefused(code, text)
        raise ConnectFailed(f"AUTH not accepted: {Reply(code, text)}")

    def noop(self) -> bool:
        """True when the session answers NOOP with 250 (the seed's way to test a connection)."""
        if self._smtp is None:
            return False
        try:
            code, _ = self._command("NOOP")
        except (smtplib.SMTPException, OSError):
            self.close()
            return False
        if code != 250:
            self.close()
        return code == 250

    def abort(self) -> None:
        """Cut the connection now, from any thread: a blocked read or write fails at once."""
        smtp = self._smtp
        sock = getattr(smtp, "sock", None) if smtp is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        """QUIT politely when possible, then drop the socket; never raises."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()

    # -- messages -----------------------------------------------------------------------------

    def send(self, mail_from: str, rcpt_to: str, data: bytes) -> SendResult:
        """Send one message (CRLF line ends) to one recipient; bare ``E164@host`` addresses.

        The session is closed (the caller reconnects) whenever its state is in doubt.
        """
        if self._smtp is None:
            return SendResult("retry", reply="not connected")
        try:
            if self._dirty:
                code, text = self._command("RSET")
                if code != 250:
                    self.close()
                    return SendResult("retry", code=code, reply=f"RSET refused: {Reply(code, text)}")
            self._dirty = True
            for verb, arg in (("MAIL", f"FROM:<{mail_from}>"), ("RCPT", f"TO:<{rcpt_to}>"), ("DATA", "")):
                code, text = self._command(verb, arg)
                expected = 354 if verb == "DATA" else 250
                if code != expected:
                    return self._before_data(code, text)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return SendResult("retry", reply=f"connection lost before the data: {_describe(exc)}")
        try:
            self._smtp.send(_dot_stuff(data))
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return SendResult("retry", reply=f"connection lost while writing the data: {_describe(exc)}")
        try:
            code, text = self._reply()
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return SendResult("unknown", reply=f"no reply after the data: {_describe(exc)}")
        if 200 <= code < 300:
            self._dirty = False
            return SendResult("accepted", provider_id=parse_queued_id(text), code=code, reply=text)
        if 400 <= code < 600:
            return self._refused(code, text)
        self.close()
        return SendResult("unknown", code=code, reply=str(Reply(code, text)))

    def _before_data(self, code: int, text: str) -> SendResult:
        if 400 <= code < 600:
            return self._refused(code, text)
        self.close()  # garbage or an unexpected code: nothing was queued, the session is suspect
        return SendResult("retry", code=code, reply=str(Reply(code, text)))

    def _refused(self, code: int, text: str) -> SendResult:
        if code in (421, 530):  # closing, or the session lost its login: start afresh
            self.close()
        return SendResult("retry" if code < 500 else "failed", code=code, reply=str(Reply(code, text)))

    # -- line protocol ------------------------------------------------------------------------

    def _command(self, verb: str, arg: str = "") -> tuple[int, str]:
        assert self._smtp is not None
        self._smtp.putcmd(verb, arg)
        return self._reply()

    def _reply(self) -> tuple[int, str]:
        """One reply; a line too long for smtplib counts as malformed, not as a 500."""
        assert self._smtp is not None
        try:
            code, raw = self._smtp.getreply()
        except smtplib.SMTPServerDisconnected:
            raise
        except smtplib.SMTPResponseException as exc:  # only "line too long" comes from getreply
            self.close()
            return MALFORMED, _text(exc.smtp_error)
        return code, _text(raw)


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())[:500]


def _dot_stuff(data: bytes) -> bytes:
    """RFC 5321 §4.5.2: double a leading dot on every line, end with CRLF . CRLF."""
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
