"""The one door from the transports into the domain.

``smpp_transport`` and ``mms_transport`` call only what this module offers: account
settings, register a :class:`Sender` for their channel (the domain's batch task sends with
it: the domain says which parts, cut once into their payloads, the transport sends them and
gives back what the provider answered; MM4 also names each part before it goes on the
wire, so the domain keeps the id a report will name), store receipts and inbound messages.
The work is done in the service modules named below; this module is the list of what a
transport may do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from campaigns.models import Account

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountSettings:
    """What a transport needs to know about an account (secrets included: never log this)."""

    id: int
    system_id: str
    password: str
    host: str
    port: int
    tls: bool
    tls_ca_file: str
    bind_mode: str
    binds: int
    rate_per_bind: int
    window: int
    system_type: str
    enquire_link_interval: int
    message_id_format: str
    stopped_reason: str

    def __repr__(self) -> str:
        return f"AccountSettings(system_id={self.system_id!r})"


def account_settings(*, system_id: str) -> AccountSettings:
    a = Account.objects.get(system_id=system_id)
    return AccountSettings(
        id=a.id, system_id=a.system_id, password=a.smpp_password, host=a.smpp_host, port=a.smpp_port,
        tls=a.smpp_tls, tls_ca_file=a.smpp_tls_ca_file, bind_mode=a.bind_mode, binds=a.binds,
        rate_per_bind=a.rate_per_bind, window=a.window, system_type=a.system_type,
        enquire_link_interval=a.enquire_link_interval, message_id_format=a.message_id_format,
        stopped_reason=a.smpp_stopped_reason,
    )  # fmt: skip


def stop_account_smpp(*, system_id: str, reason: str) -> None:
    """Record why an account's SMPP sending stopped (bad credentials): the admin shows it."""
    Account.objects.filter(system_id=system_id).update(smpp_stopped_reason=reason[:255])


from campaigns.services.inbound import InboundIn, record_inbound, record_inbound_messages  # noqa: E402
from campaigns.services.receipts import ReceiptIn, record_receipts  # noqa: E402
from campaigns.services.senders import BatchPlan, PartToSend, Sender, SubmitOutcome, register, withdraw  # noqa: E402

__all__ = [
    "AccountSettings",
    "BatchPlan",
    "InboundIn",
    "PartToSend",
    "ReceiptIn",
    "Sender",
    "SubmitOutcome",
    "account_settings",
    "record_inbound",
    "record_inbound_messages",
    "record_receipts",
    "register",
    "stop_account_smpp",
    "withdraw",
]

# MMS over MM4: the account's MM4 side and what every message of an MMS campaign carries.
from campaigns.services.mms import (  # noqa: E402
    MM4AccountSettings,
    MmsContent,
    mm4_account_for_domain,
    mm4_account_settings,
    mms_content,
    stop_account_mm4,
)

__all__ += [
    "MM4AccountSettings",
    "MmsContent",
    "mm4_account_for_domain",
    "mm4_account_settings",
    "mms_content",
    "stop_account_mm4",
]
