"""Mobile-originated messages: store them, and honour opt-out / opt-in keywords.

A recipient who replies STOP must not get the next campaign, whatever bind the reply
came in on. Keywords are matched case-insensitively on the whole message with
surrounding spaces and punctuation ignored ("Stop." and " STOP!" count, "don't stop" does
not). Every change is recorded with the message that caused it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from campaigns.models import Account, InboundMessage, OptOut, OptOutSource
from campaigns.services.materialise import suppress_opted_out
from campaigns.services.phones import InvalidPhoneNumber, normalise_phone
from campaigns.services.provider_fields import storable_text

GLOBAL_OPT_OUT = ("STOPALL",)
_EDGES = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)


@dataclass(frozen=True)
class InboundIn:
    """An MO message as a transport decoded it."""

    source_addr: str
    destination_addr: str
    text: str
    data_coding: int = 0


def keyword_of(text: str) -> str:
    """The message reduced to a keyword candidate: trimmed of spaces/punctuation, upper case."""
    return _EDGES.sub("", text.strip()).upper()


def classify(text: str) -> str:
    """The keyword action of a message text: "opt-out", "opt-in" or ""."""
    word = keyword_of(text)
    opt_out = {k.upper() for k in settings.OPT_OUT_KEYWORDS}
    opt_in = {k.upper() for k in settings.OPT_IN_KEYWORDS}
    if word in opt_out:
        return "opt-out"
    if word in opt_in:
        return "opt-in"
    return ""


def _phone(raw: str) -> str | None:
    digits = raw.strip()
    try:
        return normalise_phone(digits if digits.startswith("+") else "+" + digits.lstrip("0"))
    except InvalidPhoneNumber:
        try:
            return normalise_phone(digits)
        except InvalidPhoneNumber:
            return None


def record_inbound_messages(*, account_id: int, messages: Iterable[InboundIn]) -> list[int]:
    """Store MO messages durably and apply opt-out / opt-in keywords, in one transaction."""
    ids = []
    with transaction.atomic():
        for m in messages:
            # What the network sent, made storable (no NULs): one odd MO must not fail the group.
            m = InboundIn(
                storable_text(m.source_addr, 32),
                storable_text(m.destination_addr, 32),
                storable_text(m.text),
                m.data_coding,
            )
            action = classify(m.text)
            row = InboundMessage.objects.create(
                account_id=account_id,
                source_addr=m.source_addr,
                destination_addr=m.destination_addr,
                text=m.text,
                data_coding=m.data_coding,
                action=action,
            )
            ids.append(row.id)
            phone = _phone(m.source_addr) if action else None
            if phone and action == "opt-out":
                _opt_out(account_id, phone, row, global_=keyword_of(m.text) in GLOBAL_OPT_OUT)
            elif phone and action == "opt-in":
                OptOut.objects.filter(phone=phone).filter(
                    Q(account_id=account_id) | Q(account__isnull=True, source=OptOutSource.KEYWORD)
                ).delete()
    return ids


def _opt_out(account_id: int, phone: str, source: InboundMessage, *, global_: bool) -> None:
    scope = {"account": None} if global_ else {"account_id": account_id}
    OptOut.objects.get_or_create(
        phone=phone,
        **scope,
        defaults={"source": OptOutSource.KEYWORD, "note": f"replied {source.text[:40]!r}", "source_message": source},
    )
    accounts = Account.objects.all() if global_ else Account.objects.filter(id=account_id)
    for account in accounts:
        suppress_opted_out(account=account, phone=phone)
