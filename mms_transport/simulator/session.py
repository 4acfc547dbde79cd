"""One SMTP connection to the simulated MMSC: seed 001's command order, to the letter.

The replies the seed prints are reproduced byte for byte (the constants below); where the
seed is silent the replies follow RFC 5321 / RFC 4954 wording. Order rules (seed 001):

- AUTH before HELO/EHLO → ``503 ERROR: send EHLO first``
- MAIL or RCPT before HELO/EHLO → ``503 ERROR: send EHLO or HELO first``
- MAIL or RCPT before AUTH → ``530 5.7.0 Authentication required`` (AUTH is mandatory)
- RCPT before MAIL → ``503 ERROR: send MAIL first``
- DATA before MAIL → ``503 ERROR: need MAIL command``; before RCPT → ``503 ERROR: need RCPT command``
- QUIT, NOOP and RSET at any time; STARTTLS disabled (use the TLS port); VRFY unimplemented.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import MM4Server

logger = logging.getLogger(__name__)

OK = "250 OK"
SENDER_OK = "250 Sender OK"
RECIPIENT_OK = "250 Recipient OK"
START_DATA = "354 enter mail, end with line containing only '.'"
AUTH_OK = "235 Authentication successful"
ASK_USERNAME = "334 VXNlcm5hbWU6"
ASK_PASSWORD = "334 UGFzc3dvcmQ6"
BYE = "221 BYE"
SEND_EHLO_FIRST = "503 ERROR: send EHLO first"
SEND_EHLO_OR_HELO_FIRST = "503 ERROR: send EHLO or HELO first"
SEND_MAIL_FIRST = "503 ERROR: send MAIL first"
NEED_MAIL = "503 ERROR: need MAIL command"
NEED_RCPT = "503 ERROR: need RCPT command"
AUTH_REQUIRED = "530 5.7.0 Authentication required"
AUTH_INVALID = "535 5.7.8 Authentication credentials invalid"
ALREADY_AUTHENTICATED = "503 5.5.1 Already authenticated"
STARTTLS_DISABLED = "502 5.5.1 STARTTLS disabled, use the TLS port instead"
VRFY_UNIMPLEMENTED = "502 5.5.1 VRFY unimplemented"
UNRECOGNISED = "500 5.5.2 Command not recognized"
LINE_TOO_LONG = "500 5.5.2 Line too long"
TOO_BIG = "552 5.3.4 Message too big"

MAX_LINE = 8192
_PATH = re.compile(r"^(FROM|TO):\s*<([^<>\s]*)>(?:\s.*)?$", re.IGNORECASE)
_E164_PATH = re.compile(r"^\+?(\d{1,15})@[A-Za-z0-9.\-\[\]:]+$")


class Closed(Exception):
    """The peer went away (or the session decided to drop it)."""


class SMTPSession:
    """The state of one connection and the command loop that moves it."""

    def __init__(self, server: MM4Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: bool):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.tls = tls
        self.greeted: str | None = None  # "HELO" or "EHLO"
        self.user: str | None = None
        self.mail_from: str | None = None
        self.rcpts: list[str] = []

    async def run(self) -> None:
        try:
            await self.reply(f"220 {self.server.config.hostname} ESMTP MM4 server ready")
            while True:
                line = await self.readline()
                verb, _, arg = line.strip().partition(" ")
                handler = getattr(self, f"cmd_{verb.upper()}", None) if verb.isalpha() else None
                if handler is None:
                    await self.reply(UNRECOGNISED)
                    continue
                if await handler(arg.strip()):
                    return
        except (Closed, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.writer.close()

    # -- I/O -----------------------------------------------------------------------------------

    async def reply(self, *lines: str) -> None:
        self.writer.write("".join(f"{line}\r\n" for line in lines).encode("ascii"))
        await self.writer.drain()

    async def readline(self) -> str:
        try:
            raw = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            raise Closed from exc
        except asyncio.LimitOverrunError as exc:
            await self.reply(LINE_TOO_LONG)
            raise Closed from exc
        return raw.decode("latin-1").rstrip("\r\n")

    # -- commands (a True return ends the session) ----------------------------------------------

    async def cmd_EHLO(self, arg: str) -> bool:
        if not arg:
            await self.reply("501 5.5.4 Syntax: EHLO hostname")
            return False
        self.greeted, self.mail_from, self.rcpts = "EHLO", None, []
        host = self.server.config.hostname
        await self.reply(
            f"250-{host} MM4 server at your service, {arg[:64]}",
            f"250-SIZE {self.server.config.max_message_bytes}",
            "250 AUTH PLAIN LOGIN",
        )
        return False

    async def cmd_HELO(self, arg: str) -> bool:
        if not arg:
            await self.reply("501 5.5.4 Syntax: HELO hostname")
            return False
        self.greeted, self.mail_from, self.rcpts = "HELO", None, []
        await self.reply(f"250 {self.server.config.hostname}")
        return False

    async def cmd_AUTH(self, arg: str) -> bool:
        if self.greeted is None:
            await self.reply(SEND_EHLO_FIRST)
            return False
        if self.user is not None:
            await self.reply(ALREADY_AUTHENTICATED)
            return False
        mechanism, _, initial = arg.partition(" ")
        mechanism = mechanism.upper()
        if mechanism not in ("PLAIN", "LOGIN"):
            await self.reply("504 5.5.4 Unrecognized authentication type")
            return False
        try:
            if mechanism == "PLAIN":
                fields = self._b64(initial.strip() or await self._challenge("334 ")).split("\0")
                if len(fields) != 3:
                    raise ValueError("PLAIN wants authzid NUL user NUL password")
                _, user, key = fields
            else:
                user = self._b64(initial.strip()) if initial.strip() else self._b64(await self._challenge(ASK_USERNAME))
                key = self._b64(await self._challenge(ASK_PASSWORD))
        except _Cancelled:
            await self.reply("501 5.7.0 Authentication cancelled")
            return False
        except ValueError:
            await self.reply("501 5.5.2 Cannot decode response")
            return False
        if self.server.authenticate(user, key, mechanism, self.tls):
            self.user = user
            await self.reply(AUTH_OK)
        else:
            await self.reply(AUTH_INVALID)
        return False

    async def _challenge(self, prompt: str) -> str:
        await self.reply(prompt)
        answer = (await self.readline()).strip()
        if answer == "*":
            raise _Cancelled
        return answer

    @staticmethod
    def _b64(value: str) -> str:
        try:
            return base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ValueError(str(exc)) from exc

    async def cmd_MAIL(self, arg: str) -> bool:
        error = self._before_transaction()
        if error is None and self.mail_from is not None:
            error = "503 5.5.1 Error: nested MAIL command"
        address = self._path(arg, "FROM")
        if error is None and address is None:
            error = "501 5.5.4 Syntax: MAIL FROM:<E164-number@hostname>"
        if error:
            await self.reply(error)
            return False
        self.mail_from, self.rcpts = address, []
        await self.reply(SENDER_OK)
        return False

    async def cmd_RCPT(self, arg: str) -> bool:
        error = self._before_transaction() or (SEND_MAIL_FIRST if self.mail_from is None else None)
        address = self._path(arg, "TO")
        if error is None and address is None:
            error = "501 5.5.4 Syntax: RCPT TO:<E164-number@hostname>"
        if error:
            await self.reply(error)
            return False
        override = self.server.recipient_reply(address or "")
        if override:
            await self.reply(override)
            return False
        self.rcpts.append(address or "")
        await self.reply(RECIPIENT_OK)
        return False

    def _before_transaction(self) -> str | None:
        if self.greeted is None:
            return SEND_EHLO_OR_HELO_FIRST
        if self.user is None:
            return AUTH_REQUIRED
        return None

    def _path(self, arg: str, keyword: str) -> str | None:
        match = _PATH.match(arg)
        if not match or match.group(1).upper() != keyword or not _E164_PATH.match(match.group(2)):
            return None
        return match.group(2)

    async def cmd_DATA(self, arg: str) -> bool:
        if self.mail_from is None:
            await self.reply(NEED_MAIL)
            return False
        if not self.rcpts:
            await self.reply(NEED_RCPT)
            return False
        await self.reply(START_DATA)
        data, too_big = await self._read_data()
        mail_from, rcpts = self.mail_from, self.rcpts
        self.mail_from, self.rcpts = None, []
        if too_big:
            await self.reply(TOO_BIG)
            return False
        answer = self.server.accept_message(
            user=self.user or "", mail_from=mail_from, rcpts=rcpts, data=data, tls=self.tls
        )
        if answer is None:  # the simulator was told to drop the connection here
            self.writer.transport.abort()
            raise Closed
        await self.reply(answer)
        return False

    async def _read_data(self) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size, limit = 0, self.server.config.max_message_bytes
        while True:
            try:
                line = await self.reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:
                raise Closed from exc
            except asyncio.LimitOverrunError as exc:
                await self.reply(LINE_TOO_LONG)
                raise Closed from exc
            if line in (b".\r\n", b".\n"):
                return b"".join(chunks), size > limit
            if line.startswith(b"."):
                line = line[1:]
            size += len(line)
            if size <= limit:
                chunks.append(line)

    async def cmd_RSET(self, arg: str) -> bool:
        self.mail_from, self.rcpts = None, []
        await self.reply(OK)
        return False

    async def cmd_NOOP(self, arg: str) -> bool:
        await self.reply(OK)
        return False

    async def cmd_QUIT(self, arg: str) -> bool:
        await self.reply(BYE)
        return True

    async def cmd_STARTTLS(self, arg: str) -> bool:
        await self.reply(STARTTLS_DISABLED)
        return False

    async def cmd_VRFY(self, arg: str) -> bool:
        await self.reply(VRFY_UNIMPLEMENTED)
        return False


class _Cancelled(Exception):
    """The client answered an AUTH challenge with ``*``."""
