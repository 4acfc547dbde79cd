"""Opt-outs: numbers that must not receive campaigns, for one account or for all.

Adding one also suppresses the number's messages not yet sent, so an opt-out taken in the
middle of a campaign bites at once instead of at the next campaign. Imports read the same
CSV files as contact imports (any encoding, a broken row refused alone) and insert in chunks
with ON CONFLICT DO NOTHING, so importing a list twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from django.db import transaction
from django.db.models import Q

from campaigns.errors import ApplicationError
from campaigns.models import Account, Message, OptOut, OptOutSource
from campaigns.services import status
from campaigns.services.contacts_import import check_phone, open_csv
from campaigns.services.materialise import REASON_OPTED_OUT

CHUNK = 5000
MAX_LISTED_ROWS = 1000
PHONE_COLUMNS = ("phone", "mobile", "msisdn", "number", "phone number", "mobile number")


@dataclass
class OptOutImportResult:
    rows: int = 0
    added: int = 0
    already: int = 0
    rejected: int = 0
    rejected_rows: list[tuple[int, str]] = field(default_factory=list)


def _suppress_pending(phones: list[str], account: Account | None) -> int:
    """Suppress not-yet-claimed messages to these numbers (of the account, or everywhere)."""
    messages = Message.objects.filter(phone__in=phones)
    if account is not None:
        messages = messages.filter(campaign__account=account)
    return status.suppress_pending(messages, reason=REASON_OPTED_OUT)


def add_optout(
    *, phone: str, account: Account | None = None, source: str = OptOutSource.MANUAL, note: str = ""
) -> tuple[OptOut, bool]:
    """Record an opt-out (idempotent); returns it and whether it is new."""
    e164, reason = check_phone(phone)
    if e164 is None:
        raise ApplicationError(f"{phone!r}: {reason}", field="phone", code="invalid_phone")
    with transaction.atomic():
        existing = OptOut.objects.filter(phone=e164, account=account).first()
        if existing is not None:
            return existing, False
        optout = OptOut.objects.create(phone=e164, account=account, source=source, note=note[:255])
        _suppress_pending([e164], account)
    return optout, True


def remove_optout(*, optout: OptOut) -> None:
    """Allow the number again. Messages already suppressed stay suppressed (they were not
    sent, and sending them late would surprise the recipient)."""
    optout.delete()


def import_optouts_csv(
    *, stream: IO[bytes], account: Account | None = None, note: str = "", column: str | None = None
) -> OptOutImportResult:
    """Import opt-outs from a CSV: the ``column`` given, else the first column named like a
    phone, else the first column. A file of bare numbers is read as having no header."""
    csv_file = open_csv(stream)
    header = csv_file.header
    result = OptOutImportResult()
    if column is not None:
        if column not in header:
            raise ApplicationError(f"The file has no column {column!r}.", field="column")
        at = header.index(column)
    else:
        names = [h.strip().lower() for h in header]
        at = next((names.index(n) for n in PHONE_COLUMNS if n in names), 0)
        if check_phone(header[at])[0] is not None:  # no header: the first line is a number
            _add_chunk([(1, header[at])], account, note, result)
    batch: list[tuple[int, str]] = []
    for row, fields, problem in csv_file.records:
        if fields is None:
            _refuse(result, row, problem)
            continue
        batch.append((row, fields[at] if at < len(fields) else ""))
        if len(batch) >= CHUNK:
            _add_chunk(batch, account, note, result)
            batch = []
    _add_chunk(batch, account, note, result)
    return result


def _refuse(result: OptOutImportResult, row: int, reason: str) -> None:
    result.rows += 1
    result.rejected += 1
    if len(result.rejected_rows) < MAX_LISTED_ROWS:
        result.rejected_rows.append((row, reason))


def _add_chunk(batch: list[tuple[int, str]], account: Account | None, note: str, result: OptOutImportResult) -> None:
    """Check and insert one chunk; a number already opted out (or twice in the file) counts
    as ``already``."""
    phones: set[str] = set()
    good = 0
    for row, raw in batch:
        e164, reason = check_phone(raw)
        if e164 is None:
            _refuse(result, row, reason)
            continue
        result.rows += 1
        good += 1
        phones.add(e164)
    if not phones:
        return
    scope = Q(account=account) if account is not None else Q(account__isnull=True)
    with transaction.atomic():
        known = set(OptOut.objects.filter(scope, phone__in=list(phones)).values_list("phone", flat=True))
        new = sorted(phones - known)
        OptOut.objects.bulk_create(
            [OptOut(phone=p, account=account, source=OptOutSource.IMPORT, note=note[:255]) for p in new],
            ignore_conflicts=True,
        )
        _suppress_pending(new, account)
    result.added += len(new)
    result.already += good - len(new)
