"""Configuration of the MM4 provider simulator.

One dataclass shared by the thread runner (tests), ``manage.py mm4_simulator`` and
``python -m mms_transport.simulator``, so a behaviour reproduced in a test can be reproduced
in the demo with the same knobs.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field

#: X-Mms-MM-Status-Code values a delivery report may carry (3GPP TS 23.140), plus "none".
MM_STATUS_CODES = ("Retrieved", "Rejected", "Deferred", "Expired", "Indeterminate", "Forwarded", "Unrecognised")
#: Which id the reports' X-Mms-Message-ID carries: the forward request's own (3GPP TS 23.140)
#: or the id of ``250 queued as <id>`` (what some MMSCs do).
REPORT_IDS = ("original", "queued")


def _default_outcomes() -> dict[str, float]:
    return {"Retrieved": 100.0}


@dataclass
class SimulatorConfig:
    """Everything that shapes how the simulated MM4 provider behaves (seed 001).

    ``port`` is the plain listener (seed: 2525), ``tls_port`` the implicit-TLS one (seed:
    2465, needs ``ssl_context``); 0 picks an ephemeral port, None turns a listener off.
    Recipient keys of the reply maps are E.164 digits without ``+``.
    """

    host: str = "127.0.0.1"
    port: int | None = 0
    tls_port: int | None = None
    #: server-side TLS context for ``tls_port`` (the provider offers TLS 1.1 and 1.2).
    ssl_context: ssl.SSLContext | None = None
    #: system_id -> API key: the AUTH PLAIN / LOGIN credentials.
    accounts: dict[str, str] = field(default_factory=dict)
    #: the name in the greeting and the domain of the provider's own addresses.
    hostname: str = "mmsc.simulator"
    #: where delivery reports go (host, port): the platform's inbound MM4 receiver.
    receiver: tuple[str, int] | None = None
    receiver_tls: bool = False
    receiver_ca_file: str | None = None
    #: (user, password) to AUTH with at the receiver; None = no AUTH.
    receiver_auth: tuple[str, str] | None = None
    #: seconds between accepting a message and sending its delivery report.
    report_delay_s: float = 1.0
    #: X-Mms-MM-Status-Code -> weight; the key "none" means "send no delivery report".
    outcomes: dict[str, float] = field(default_factory=_default_outcomes)
    #: answer X-Mms-Ack-Request: Yes with an MM4_forward.RES (X-Mms-Request-Status-Code: Ok).
    forward_res: bool = True
    #: the id reports refer to: "original" (the X-Mms-Message-ID of the MM4_forward.REQ, as
    #: 3GPP TS 23.140 says) or "queued" (the id of our ``250 queued as <id>``).
    report_id: str = "original"
    #: seed of the outcome draw, so a mix of outcomes is reproducible.
    seed: int = 0
    #: folder where every accepted message is saved as <id>.eml; None = not saved.
    eml_dir: str | os.PathLike[str] | None = None
    #: recipient -> the reply to its RCPT TO instead of "250 Recipient OK" (e.g. "450 4.2.1 busy").
    recipient_replies: dict[str, str] = field(default_factory=dict)
    #: recipient -> the reply after the data instead of "250 queued as <id>".
    data_replies: dict[str, str] = field(default_factory=dict)
    #: recipients whose message is read in full and then the connection closed without a reply.
    drop_after_data: set[str] = field(default_factory=set)
    #: largest message accepted (bytes after dot-unstuffing); above it 552.
    max_message_bytes: int = 2_000_000
    #: keep every accepted message (with its bytes) in memory (tests); the command turns it off.
    record_messages: bool = True
    #: seconds between attempts to deliver a report the receiver did not take.
    report_retry_s: float = 1.0

    def __post_init__(self) -> None:
        if self.port is None and self.tls_port is None:
            raise ValueError("at least one of port and tls_port is needed")
        if self.tls_port is not None and self.ssl_context is None:
            raise ValueError("tls_port needs an ssl_context (a certificate and key)")
        validate_outcomes(self.outcomes)
        if self.report_id not in REPORT_IDS:
            raise ValueError(f"report_id must be one of {', '.join(REPORT_IDS)}, not {self.report_id!r}")
        for table in (self.recipient_replies, self.data_replies):
            for number, reply in table.items():
                if not reply[:3].isdigit():
                    raise ValueError(f"reply for {number} must start with a 3-digit code: {reply!r}")


def validate_outcomes(outcomes: dict[str, float]) -> None:
    """Reject weights that cannot be drawn from (negative, all zero, unknown status codes)."""
    if not outcomes:
        raise ValueError("outcomes must not be empty")
    for status, weight in outcomes.items():
        if weight < 0:
            raise ValueError(f"negative weight for outcome {status!r}")
        if status != "none" and status not in MM_STATUS_CODES:
            raise ValueError(f"unknown X-Mms-MM-Status-Code {status!r}; one of {', '.join(MM_STATUS_CODES)} or none")
    if sum(outcomes.values()) <= 0:
        raise ValueError("outcome weights must not all be zero")


def server_tls_context(cert: str, key: str | None) -> ssl.SSLContext:
    """A server context like the provider's: TLS 1.2 (1.1 is refused by current OpenSSL)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context
