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
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction

from campaigns.models import Account, BindMode
from campaigns.services.inbound import InboundIn, record_inbound_messages
from campaigns.services.mms import (
    MM4AccountSettings,
    MmsContent,
    mm4_account_for_domain,
    mm4_account_settings,
    mms_content,
    stop_account_mm4,
)
from campaigns.services.receipts import ReceiptIn, record_receipts
from campaigns.services.senders import BatchPlan, PartToSend, Sender, SubmitOutcome, register, withdraw

logger = logging.getLogger(__name__)

__all__ = [
    "AccountSettings",
    "BatchPlan",
    "BindToRun",
    "InboundIn",
    "MM4AccountSettings",
    "MmsContent",
    "PartToSend",
    "ReceiptIn",
    "Sender",
    "SubmitOutcome",
    "account_settings",
    "accounts_without",
    "binds_to_run",
    "mm4_account_for_domain",
    "mm4_account_settings",
    "mm4_accounts_to_run",
    "mms_content",
    "record_deliveries",
    "record_inbound_messages",
    "record_receipts",
    "register",
    "stop_account_mm4",
    "stop_account_smpp",
    "withdraw",
]


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
        id=a.id,
        system_id=a.system_id,
        password=a.smpp_password,
        host=a.smpp_host,
        port=a.smpp_port,
        tls=a.smpp_tls,
        tls_ca_file=a.smpp_tls_ca_file,
        bind_mode=a.bind_mode,
        binds=a.binds,
        rate_per_bind=a.rate_per_bind,
        window=a.window,
        system_type=a.system_type,
        enquire_link_interval=a.enquire_link_interval,
        message_id_format=a.message_id_format,
        stopped_reason=a.smpp_stopped_reason,
    )


def stop_account_smpp(*, system_id: str, reason: str) -> None:
    """Record why an account's SMPP sending stopped (bad credentials): the admin shows it."""
    Account.objects.filter(system_id=system_id).update(smpp_stopped_reason=reason[:255])


@dataclass(frozen=True)
class BindToRun:
    """One account's binds as its processes are started: ``binds`` of them in ``mode``
    (``trx``; or ``tx`` with as many ``rx`` receivers beside them)."""

    system_id: str
    binds: int
    mode: str
    receivers: bool


def binds_to_run(*, system_ids: Iterable[str] | None = None) -> list[BindToRun]:
    """The SMPP binds to run: every active account whose SMPP sending is not stopped."""
    accounts = Account.objects.filter(active=True, smpp_stopped_reason="")
    if system_ids:
        accounts = accounts.filter(system_id__in=list(system_ids))
    out = []
    for a in accounts.order_by("system_id"):
        separate = a.bind_mode == BindMode.TRANSMITTER_RECEIVER
        out.append(BindToRun(a.system_id, a.binds, "tx" if separate else "trx", receivers=separate))
    return out


def accounts_without(*, system_ids: Iterable[str]) -> list[str]:
    """Active accounts whose SMPP sending is not stopped and that are not in ``system_ids``
    (the ones with a healthy bind): what ``bind_health --check`` reports."""
    return sorted(
        Account.objects.filter(active=True, smpp_stopped_reason="")
        .exclude(system_id__in=list(system_ids))
        .values_list("system_id", flat=True)
    )


def mm4_accounts_to_run(*, system_ids: Iterable[str] | None = None) -> list[str]:
    """Accounts that get an MM4 worker: active, with an MM4 host, MMS sending not stopped."""
    accounts = Account.objects.filter(active=True, mm4_stopped_reason="").exclude(mm4_host="")
    if system_ids:
        accounts = accounts.filter(system_id__in=list(system_ids))
    return list(accounts.order_by("system_id").values_list("system_id", flat=True))


def record_deliveries(*, account_id: int, receipts: Iterable[ReceiptIn], inbound: Iterable[InboundIn]) -> None:
    """Store what a bind delivered (receipts and MO messages) durably, together, in one
    transaction: the transport acknowledges them to the SMSC only once this returns."""
    receipts, inbound = list(receipts), list(inbound)
    if not inbound:
        # Receipts alone are one INSERT, atomic by itself: no BEGIN and COMMIT around it
        # (two round trips fewer per group, on every bind's busiest path).
        record_receipts(account_id=account_id, receipts=receipts)
        return
    with transaction.atomic():
        if receipts:
            record_receipts(account_id=account_id, receipts=receipts)
        if inbound:
            record_inbound_messages(account_id=account_id, messages=inbound)


# The accounts' own logins to the MM4 receiver (each may report for its account only).
from campaigns.services.mm4_inbound import InboundLogin, mm4_inbound_logins  # noqa: E402

__all__ += ["InboundLogin", "mm4_inbound_logins"]

# The account page's "Test connection": the transports register a one-off login probe.
from campaigns.services.connection_checks import (  # noqa: E402
    ConnectionCheck,
    connection_health,
    register_health,
    register_probe,
    test_connection,
)

__all__ += ["ConnectionCheck", "connection_health", "register_health", "register_probe", "test_connection"]

# Routes ask the transports which accounts cannot send now (campaigns.services.routing).
from campaigns.services.routing import register_availability  # noqa: E402

__all__ += ["register_availability"]
