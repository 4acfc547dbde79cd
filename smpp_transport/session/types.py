"""Public value types of an SMPP bind (re-exported by ``smpp_transport.bind``).

Plain frozen dataclasses with no behaviour beyond validation, so the Celery adapter can
build and read them without knowing anything about sockets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "BindAuthError",
    "BindRefused",
    "BindConfig",
    "InboundPdu",
    "OutboundPart",
    "SubmitResult",
]

BindMode = Literal["trx", "tx", "rx"]
Outcome = Literal["accepted", "failed", "retry", "unknown"]

# SMPP 3.4 §4.1.1: system_id is a C-Octet String of at most 16 octets and password of at
# most 9, both including the NUL. smpplib silently truncates longer values, which turns a
# configuration mistake into a baffling ESME_RINVPASWD; refuse them up front instead.
_MAX_SYSTEM_ID = 15
_MAX_PASSWORD = 8
_MAX_SYSTEM_TYPE = 12


class BindAuthError(Exception):
    """The SMSC refused our credentials (ESME_RINVPASWD, ESME_RINVSYSID).

    Retrying would only lock the account or page the provider's NOC: the bind stops.
    """


class BindRefused(ConnectionError):
    """The SMSC refused the bind for capacity (ESME_RBINDFAIL: too many binds, or a bind
    it cannot take now). Not the credentials: the bind waits and tries again, backing off
    up to ``BindConfig.refused_backoff_max_s``."""


@dataclass(frozen=True)
class BindConfig:
    """Everything one SMPP session needs. ``password`` never appears in repr or logs."""

    host: str
    port: int
    system_id: str
    password: str = field(repr=False)
    mode: BindMode = "trx"
    system_type: str = ""
    tls: bool = False
    tls_ca_file: str | None = None
    tls_verify: bool = True
    tls_server_hostname: str | None = None
    window: int = 10
    rate_per_s: float = 50.0
    # A send waits until 1 s + guard after the latest moment the SMSC can have stamped the
    # send ceil(rate) places before it (its answer bounds that: see session/pacing.py).
    # The guard covers the SMSC's own time between stamping and answering; it costs
    # rate * guard (0.1 % at 1 ms).
    pacing_guard_s: float = 0.001
    enquire_link_s: float = 30.0
    response_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    #: the backoff after ESME_RBINDFAIL grows from reconnect_min_s to this (with jitter)
    refused_backoff_max_s: float = 60.0
    throttle_pause_s: float = 1.0
    max_throttle_retries: int = 50

    def __post_init__(self) -> None:
        if self.mode not in ("trx", "tx", "rx"):
            raise ValueError(f"mode must be 'trx', 'tx' or 'rx', not {self.mode!r}")
        if not self.system_id or len(self.system_id) > _MAX_SYSTEM_ID:
            raise ValueError(f"system_id must be 1..{_MAX_SYSTEM_ID} characters (SMPP 3.4)")
        if len(self.password) > _MAX_PASSWORD:
            raise ValueError(f"password longer than {_MAX_PASSWORD} characters (SMPP 3.4)")
        if len(self.system_type) > _MAX_SYSTEM_TYPE:
            raise ValueError(f"system_type longer than {_MAX_SYSTEM_TYPE} characters")
        if self.window < 1:
            raise ValueError("window must be >= 1")
        if self.pacing_guard_s < 0:
            raise ValueError("pacing_guard_s must be >= 0")
        if self.rate_per_s < 0:
            raise ValueError("rate_per_s must be >= 0 (0 = unpaced)")
        positive = (
            "enquire_link_s",
            "response_timeout_s",
            "connect_timeout_s",
            "reconnect_max_s",
            "refused_backoff_max_s",
            "throttle_pause_s",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if self.reconnect_min_s < 0 or self.reconnect_min_s > self.reconnect_max_s:
            raise ValueError("need 0 <= reconnect_min_s <= reconnect_max_s")
        if self.max_throttle_retries < 0:
            raise ValueError("max_throttle_retries must be >= 0")

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, kw_only=True)
class OutboundPart:
    """One submit_sm to send: a segment as produced by ``campaigns.sms_text.encoding``.

    ``ref`` is opaque to the bind (the domain's part to send) and comes back in the result.
    ``optional_params`` uses smpplib's TLV names (sar_msg_ref_num, message_payload, ...).
    Keyword-only: a part has too many same-typed fields to build positionally safely.
    """

    ref: object
    source_addr: str
    source_addr_ton: int
    source_addr_npi: int
    destination_addr: str
    dest_addr_ton: int = 1
    dest_addr_npi: int = 1
    short_message: bytes
    data_coding: int = 0
    esm_class: int = 0
    registered_delivery: int = 1
    validity_period: str | None = None
    optional_params: dict = field(default_factory=dict)
    #: parts of one flow (a campaign) share the bind's turns; None: the submit() call's own
    flow: object = None
    #: paced by the caller (a capped campaign's part handed at its slot): sent before bulk
    #: parts, so the caller's pace is not lost in the bind's queue
    paced: bool = False


@dataclass(frozen=True)
class SubmitResult:
    """What happened to one part.

    outcome: ``accepted`` (submit_sm_resp ESME_ROK, ``message_id`` set); ``failed`` (a
    permanent error status: do not resend); ``retry`` (never written, or a transient status,
    or throttle retries exhausted: safe to send again); ``unknown`` (written but no response:
    the SMSC may or may not have it, resending risks a duplicate).
    """

    ref: object
    outcome: Outcome
    command_status: int | None
    status_name: str | None
    message_id: str | None
    #: when the submit_sm was last written (``time.monotonic()`` after the write; None: never)
    written_at: float | None = None


@dataclass(frozen=True)
class InboundPdu:
    """A deliver_sm (or data_sm) as received: a delivery receipt or an MO message.

    ``optional_params`` is keyed by smpplib's TLV names (ints for integer TLVs, bytes
    otherwise, C-strings without their NUL); TLVs smpplib does not know are kept under
    ``"tlv_0x%04x"`` with their raw bytes, so nothing the SMSC sent is lost.
    """

    system_id: str
    source_addr: str
    destination_addr: str
    esm_class: int
    data_coding: int
    short_message: bytes
    optional_params: dict
    received_at: float
