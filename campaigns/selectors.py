"""Read queries: what the API (and the admin) show, kept out of views and serializers.

Writes live in ``campaigns.services``; everything here only reads, so it can be called
from any view, report or benchmark without side effects.
"""

from __future__ import annotations

from typing import TypedDict

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from campaigns.models import (
    Account,
    Campaign,
    CampaignStatus,
    Contact,
    Message,
    MessagePart,
    OptOut,
    Receipt,
    RecipientList,
)
from campaigns.statuses import FAILURE_STATUSES, IN_FLIGHT_STATUSES, S

# Handed to the provider and accepted by it: what "sent" means in reports. A message that
# failed at submit (``failed``) never left; one rejected by a later receipt did.
SENT_STATUSES: tuple[str, ...] = (S.ACCEPTED, S.UNKNOWN, S.DELIVERED, S.UNDELIVERED, S.EXPIRED, S.REJECTED)
WAITING_STATUSES: tuple[str, ...] = (S.PENDING, S.QUEUED)


class CampaignStats(TypedDict):
    total: int
    waiting: int
    sent: int
    delivered: int
    failed: int
    suppressed: int
    cancelled: int
    delivery_rate: float | None
    by_status: dict[str, int]


def campaign_stats(campaign: Campaign) -> CampaignStats:
    """Counts per message status and the headline figures, in one GROUP BY query.

    ``delivery_rate`` is delivered / sent (None until something is sent): suppressed and
    cancelled messages never reached the network, so they do not lower the rate.
    """
    by_status = dict.fromkeys(S.values, 0)
    rows = Message.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")).order_by()
    for status, count in rows:
        by_status[status] = by_status.get(status, 0) + count
    sent = sum(by_status[s] for s in SENT_STATUSES)
    delivered = by_status[S.DELIVERED]
    return {
        "total": sum(by_status.values()),
        "waiting": sum(by_status[s] for s in WAITING_STATUSES),
        "sent": sent,
        "delivered": delivered,
        "failed": sum(by_status[s] for s in FAILURE_STATUSES),
        "suppressed": by_status[S.SUPPRESSED],
        "cancelled": by_status[S.CANCELLED],
        "delivery_rate": round(delivered / sent, 4) if sent else None,
        "by_status": by_status,
    }


def campaign_has_messages_in_flight(campaign: Campaign) -> bool:
    """True while a bind may be sending the campaign's messages (deleting it then would race)."""
    return campaign.status == CampaignStatus.RUNNING or (
        Message.objects.filter(campaign=campaign, status__in=IN_FLIGHT_STATUSES).exists()
    )


def account_list() -> QuerySet[Account]:
    """Accounts by name; only the columns anyone may see (never the secrets)."""
    return Account.objects.only("id", "name", "system_id").order_by("name", "id")


def recipient_list_list() -> QuerySet[RecipientList]:
    """Lists, newest first, each with its number of contacts.

    The count is a correlated subquery rather than a JOIN … GROUP BY: the database then
    counts only the lists on the requested page (over the (list, phone) unique index),
    not every contact of every list before the LIMIT.
    """
    contacts = (
        Contact.objects.filter(recipient_list=OuterRef("pk"))
        .order_by()
        .values("recipient_list")
        .annotate(n=Count("id"))
    )
    return RecipientList.objects.annotate(contacts_count=Coalesce(Subquery(contacts.values("n")), Value(0))).order_by(
        "-created_at", "-id"
    )


def contact_list(*, recipient_list_id: int | None = None, phone: str | None = None) -> QuerySet[Contact]:
    contacts = Contact.objects.all().order_by("id")
    if recipient_list_id is not None:
        contacts = contacts.filter(recipient_list_id=recipient_list_id)
    if phone:
        contacts = contacts.filter(phone=phone)
    return contacts


def opt_out_list(*, account_id: int | None = None, phone: str | None = None) -> QuerySet[OptOut]:
    opt_outs = OptOut.objects.all().order_by("-created_at", "-id")
    if account_id is not None:
        opt_outs = opt_outs.filter(account_id=account_id)
    if phone:
        opt_outs = opt_outs.filter(phone=phone)
    return opt_outs


def is_opted_out(*, phone: str, account_id: int) -> bool:
    """Whether ``phone`` may not receive from this account (a global or an account opt-out)."""
    return OptOut.objects.filter(Q(account__isnull=True) | Q(account_id=account_id), phone=phone).exists()


def campaign_list(*, status: str | None = None, include_tests: bool = True) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.prefetch_related(
        Prefetch("recipient_lists", queryset=RecipientList.objects.only("id"))
    ).order_by("-created_at", "-id")
    if status:
        campaigns = campaigns.filter(status=status)
    if not include_tests:
        campaigns = campaigns.filter(is_test=False)
    return campaigns


def message_list(
    *, campaign_id: int | None = None, statuses: list[str] | None = None, phone: str | None = None
) -> QuerySet[Message]:
    """Messages, newest first, with the campaign's channel and the parts ready to serialise."""
    messages = Message.objects.select_related("campaign").only(
        *(f.name for f in Message._meta.concrete_fields if f.name != "campaign"),
        "campaign__id",
        "campaign__channel",
    )
    if campaign_id is not None:
        messages = messages.filter(campaign_id=campaign_id)
    if statuses:
        messages = messages.filter(status__in=statuses)
    if phone:
        messages = messages.filter(phone=phone)
    # Receipts for the reason of an MMS (its report's status code); one more query a page.
    receipts = Receipt.objects.only("id", "part_id", "stat", "status").order_by("-id")
    return messages.prefetch_related(
        Prefetch("parts", queryset=MessagePart.objects.order_by("index")),
        Prefetch("parts__receipts", queryset=receipts),
    )


def running_send_rates(*, account: Account, channel: str) -> list[int | None]:
    """The caps (None: uncapped) of the account's campaigns sending on ``channel`` now: the
    campaigns a new one will share the account's capacity with."""
    running = Campaign.objects.filter(account=account, channel=channel, status=CampaignStatus.RUNNING, is_test=False)
    return list(running.values_list("send_rate", flat=True))
