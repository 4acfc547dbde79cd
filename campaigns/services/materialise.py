"""Turn a campaign's recipient lists into Message rows, in one INSERT … SELECT.

A million contacts must not pass through Python: the database deduplicates numbers that
appear on several lists (the lowest contact id wins), marks opted-out and malformed
numbers as suppressed with a reason, and ``ON CONFLICT DO NOTHING`` makes a second run a
no-op. Bodies are personalised later, per batch, when messages are claimed for sending.
A frequency cap, when one applies, then suppresses the numbers already at it, in one more
statement (``campaigns.services.frequency_cap``).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Account, Campaign, Contact, Message, OptOut
from campaigns.services import status
from campaigns.services.frequency_cap import apply_frequency_cap
from campaigns.services.personalise import has_variables
from campaigns.statuses import MessageStatus

E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
# The same test as E164_PATTERN in plain string functions (PostgreSQL and SQLite alike):
# a regex per row was most of the statement's cost on a million contacts.
E164_CHECK = (
    "substr(phone, 1, 1) = '+' AND length(phone) BETWEEN 8 AND 16 AND substr(phone, 2, 1) <> '0' "
    "AND ltrim(substr(phone, 2), '0123456789') = ''"
)
REASON_OPTED_OUT = "opted out"
REASON_INVALID = "invalid phone number"


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def materialise_sql(*, list_ids: list[int], first_run: bool = False) -> tuple[str, list]:
    """The INSERT … SELECT statement and its trailing parameters (exposed for the benchmark).

    Duplicates across lists fall to ``ON CONFLICT (campaign_id, phone) DO NOTHING``; with
    several lists the rows go in contact-id order so the lowest contact id wins. Opt-outs
    are one hash join, not a subquery per row. ``first_run`` (one list, the campaign locked
    and still without messages) drops ON CONFLICT: phones are unique within a list, so no
    row can conflict, and PostgreSQL's speculative insertion costs a third of the time.
    """
    if not list_ids:
        raise ValueError("no recipient lists")
    placeholders = ", ".join(["%s"] * len(list_ids))
    order = "ORDER BY c.id" if len(list_ids) > 1 else ""
    message, contact, optout = _table(Message), _table(Contact), _table(OptOut)
    sql = f"""
        INSERT INTO {message}
            (campaign_id, contact_id, phone, body, status, reason, segments, recipient_tz,
             attempts, created_at, updated_at)
        SELECT %s, c.id, c.phone, %s,
            CASE WHEN NOT c.ok OR o.phone IS NOT NULL THEN %s ELSE %s END,
            CASE WHEN NOT c.ok THEN %s WHEN o.phone IS NOT NULL THEN %s ELSE '' END,
            1, '', 0, %s, %s
        FROM (
            SELECT id, phone, ({E164_CHECK}) AS ok FROM {contact}
            WHERE recipient_list_id IN ({placeholders})
        ) c
        LEFT JOIN (
            SELECT DISTINCT phone FROM {optout} WHERE account_id IS NULL OR account_id = %s
        ) o ON o.phone = c.phone
        WHERE 1 = 1
        {order}
        {"" if first_run and len(list_ids) == 1 else "ON CONFLICT (campaign_id, phone) DO NOTHING"}
    """
    return sql, list_ids


def materialise_recipients(*, campaign: Campaign) -> int:
    """Create the campaign's messages; returns how many rows were inserted (0 on a re-run)."""
    list_ids = list(campaign.recipient_lists.values_list("id", flat=True))
    now = timezone.now()
    inserted = 0
    with transaction.atomic():
        # The lock serialises concurrent starts of the same campaign (SQLite serialises
        # writers anyway); a campaign already materialised is left alone.
        locked = Campaign.objects.select_for_update().filter(id=campaign.id, materialised_at__isnull=True)
        if not locked.exists():
            return 0
        if list_ids:
            first_run = not Message.objects.filter(campaign_id=campaign.id).exists()
            sql, list_params = materialise_sql(list_ids=list_ids, first_run=first_run)
            static_body = "" if has_variables(campaign.body) else campaign.body
            S = MessageStatus
            params = [
                campaign.id,
                static_body,
                S.SUPPRESSED,
                S.PENDING,
                REASON_INVALID,
                REASON_OPTED_OUT,
                now,
                now,
                *list_params,
                campaign.account_id,
            ]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                inserted = max(cursor.rowcount, 0)
            apply_frequency_cap(campaign=campaign, now=now)  # one UPDATE, under its lock until commit
        Campaign.objects.filter(id=campaign.id, materialised_at__isnull=True).update(materialised_at=now)
    return inserted


def suppress_opted_out(*, account: Account, phone: str) -> int:
    """Suppress a number's not-yet-sent messages after it opts out mid-campaign."""
    messages = Message.objects.filter(campaign__account=account, phone=phone)
    return status.suppress_pending(messages, reason=REASON_OPTED_OUT)
