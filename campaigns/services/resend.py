"""Resend to failed: the failed recipients become a recipient list of their own.

A resend draft used to carry ready-made messages and no list, so the builder (which counts
and previews the lists) showed 0 recipients while sending went to all of them, and a list
added to the draft was silently ignored. With its own list the draft is an ordinary draft:
the preview counts and personalises the list, lists can be added or removed, duplicate
copies it, and *send now* materialises it like any other campaign (opt-outs applied then,
at send time, not when the draft was made).

Messages left ``unknown`` (no receipt by the receipt deadline) are out by default: such a
message may well have arrived (many networks never send a receipt), so resending it can
deliver it twice. ``include_unknown`` opts in, for a marketer who would rather risk a
duplicate than a loss.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from campaigns.models import Campaign, Contact, Message, RecipientList
from campaigns.services.bulk_sql import member_of, quoted_table
from campaigns.statuses import FAILURE_STATUSES, S

NAME_MAX = RecipientList._meta.get_field("name").max_length


def fit_name(name: str, suffix: str = "", *, prefix: str = "") -> str:
    """``prefix`` + ``name`` + ``suffix`` within the 200 characters a name may have (the
    name is cut): "Spring sale (resend to failed)" must not fail on a long name."""
    return prefix + name[: NAME_MAX - len(prefix) - len(suffix)] + suffix


UNKNOWN_RISK = (
    "An unknown message had no delivery receipt by the deadline: it may have arrived "
    "(many networks send no receipt), so resending it can deliver it twice."
)


def resend_statuses(*, include_unknown: bool = False) -> tuple[str, ...]:
    """The message statuses a resend takes: the failures, and ``unknown`` when asked."""
    return (*FAILURE_STATUSES, S.UNKNOWN) if include_unknown else FAILURE_STATUSES


def failed_recipients_list(*, campaign: Campaign, include_unknown: bool = False) -> tuple[RecipientList, int]:
    """A new list of the numbers whose messages failed in ``campaign`` (and, with
    ``include_unknown``, whose messages are unknown), and its size.

    One INSERT … SELECT: each contact keeps the names and attributes of the contact the
    failed message was made from (so personalisation is the same), or just the number when
    that contact is gone. Messages are unique per number within a campaign, so the list's
    own (list, phone) constraint never conflicts.
    """
    now = timezone.now()
    which = "failed or were unknown (no receipt)" if include_unknown else "failed"
    recipients = RecipientList.objects.create(
        name=fit_name(campaign.name, ": failed and unknown recipients" if include_unknown else ": failed recipients"),
        description=(
            f"The recipients whose messages {which} in “{campaign.name}” (campaign #{campaign.pk}), "
            f"for its resend ({now:%Y-%m-%d %H:%M} UTC)."
        ),
    )
    statuses = sorted(resend_statuses(include_unknown=include_unknown))
    status_sql, status_params = member_of("m.status", statuses, cast="text")
    contact, message = quoted_table(Contact), quoted_table(Message)
    sql = f"""
        INSERT INTO {contact} (recipient_list_id, phone, first_name, last_name, attributes, created_at)
        SELECT %s, m.phone, COALESCE(c.first_name, ''), COALESCE(c.last_name, ''), COALESCE(c.attributes, %s), %s
        FROM {message} m LEFT JOIN {contact} c ON c.id = m.contact_id
        WHERE m.campaign_id = %s AND {status_sql}
        ORDER BY m.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [recipients.pk, "{}", now, campaign.pk, *status_params])
        count = max(cursor.rowcount, 0)
    return recipients, count
