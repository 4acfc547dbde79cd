"""Configuration of the SMSC simulator.

One dataclass shared by the test runner (:class:`SimulatorThread`), the management command
and ``python -m smpp_transport.smsc``, so a behaviour reproduced in a test can be reproduced
in the demo with the same knobs.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field

ID_FORMATS = ("hex", "decimal")
RECEIPT_MODES = ("tlv+text", "text")


def _default_outcomes() -> dict[str, float]:
    return {"DELIVRD": 100}


@dataclass
class SimulatorConfig:
    """Everything that shapes how the simulated provider behaves.

    The defaults follow seed 000: 50 submit_sm/s per bind, receipts to any receiver bind
    of the same system_id. ``port=0`` picks an ephemeral port (tests read ``sim.port``).
    """

    host: str = "127.0.0.1"
    port: int = 0
    #: system_id -> password; several binds per system_id are allowed at once.
    accounts: dict[str, str] = field(default_factory=dict)
    #: accepted submit_sm per bind per 1 s window; above it ESME_RTHROTTLED. 0 = unlimited.
    rate_per_bind: float = 50.0
    #: seconds between the submit_sm and its delivery receipt.
    dlr_delay_s: float = 0.0
    #: receipt stat -> weight; the key "none" means "send no receipt at all".
    outcomes: dict[str, float] = field(default_factory=_default_outcomes)
    #: seed of the outcome draw, so a mix of outcomes is reproducible.
    seed: int = 0
    #: "hex" (lowercase) or "decimal" message ids in submit_sm_resp.
    id_format: str = "hex"
    #: format of the id inside receipts (text and TLV); None = same as ``id_format``.
    receipt_id_format: str | None = None
    #: left-pad receipt ids with zeros to this width (providers that do so exist).
    receipt_id_zero_pad: int = 0
    #: "tlv+text": receipted_message_id + message_state TLVs and the text; "text": text only.
    receipt_mode: str = "tlv+text"
    #: delay of every submit_sm_resp; the receipt is still timed from the submit.
    resp_delay_s: float = 0.0
    #: server-side TLS context; None = plain TCP.
    ssl_context: ssl.SSLContext | None = None
    #: JSON-lines log of every submit_sm (buffered, flushed every second and on stop).
    log_path: str | os.PathLike[str] | None = None
    #: add a vendor TLV (tag 0x1400) to receipts, to prove clients skip unknown TLVs.
    extra_tlv_in_receipts: bool = False
    #: if a bind is silent this long the SMSC sends enquire_link; silent twice as long: closed.
    enquire_link_timeout_s: float | None = None
    #: wait before re-sending a deliver_sm that got a non-zero deliver_sm_resp.
    receipt_retry_delay_s: float = 1.0
    #: keep every submit record in memory (tests); the long-running command turns it off.
    record_submits: bool = True
    #: destination_addr -> command_status returned instead of a message id (permanent errors).
    reject_destinations: dict[str, int] = field(default_factory=dict)
    #: destination_addr -> length of the message_id answered for it (and used in its receipt),
    #: e.g. longer than SMPP 3.4's 64 characters, as a misbehaving SMSC does. The id is
    #: left-padded with "f" (hex) or "9" (decimal), which no id normalisation strips.
    long_id_destinations: dict[str, int] = field(default_factory=dict)
    #: system_id the SMSC announces in bind responses.
    smsc_system_id: str = "SMSCSIM"
    #: bound sessions allowed at once per system_id; one more is refused with
    #: ESME_RBINDFAIL, as providers do. 0 = unlimited.
    max_binds_per_system_id: int = 0

    def __post_init__(self) -> None:
        if self.id_format not in ID_FORMATS:
            raise ValueError(f"id_format must be one of {ID_FORMATS}, not {self.id_format!r}")
        if self.receipt_id_format not in (None, *ID_FORMATS):
            raise ValueError(f"receipt_id_format must be None or one of {ID_FORMATS}")
        if self.receipt_mode not in RECEIPT_MODES:
            raise ValueError(f"receipt_mode must be one of {RECEIPT_MODES}")
        if any(length < 1 for length in self.long_id_destinations.values()):
            raise ValueError("long_id_destinations lengths must be >= 1")
        if self.rate_per_bind < 0:
            raise ValueError("rate_per_bind must be >= 0")
        if self.max_binds_per_system_id < 0:
            raise ValueError("max_binds_per_system_id must be >= 0 (0 = unlimited)")
        validate_outcomes(self.outcomes)

    @property
    def effective_receipt_id_format(self) -> str:
        """The id format receipts use once the default (same as responses) is applied."""
        return self.receipt_id_format or self.id_format


def validate_outcomes(outcomes: dict[str, float]) -> None:
    """Reject weights that cannot be drawn from (negative, or all zero)."""
    if not outcomes:
        raise ValueError("outcomes must not be empty")
    for stat, weight in outcomes.items():
        if weight < 0:
            raise ValueError(f"negative weight for outcome {stat!r}")
        if stat != "none" and not (1 <= len(stat) <= 7):
            raise ValueError(f"receipt stat {stat!r} must be 1 to 7 characters")
    if sum(outcomes.values()) <= 0:
        raise ValueError("outcome weights must not all be zero")
