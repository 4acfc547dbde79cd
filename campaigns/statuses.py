"""Message and part statuses, and the rank that makes them move forward only.

Receipts arrive late, twice, or out of order: an SMSC may send ENROUTE after DELIVRD,
or resend a receipt we acknowledged too slowly. A status therefore only ever moves to a
higher rank; every final status has the same top rank, so the first final outcome wins
and a duplicate changes nothing. The one sanctioned step back (a transient submit error
sending a part back to ``pending`` for a retry) is a separate, explicit service call.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    ACCEPTED = "accepted", "Accepted by provider"
    UNKNOWN = "unknown", "Unknown"
    DELIVERED = "delivered", "Delivered"
    UNDELIVERED = "undelivered", "Undelivered"
    EXPIRED = "expired", "Expired"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"
    SUPPRESSED = "suppressed", "Suppressed"
    CANCELLED = "cancelled", "Cancelled"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


# The short names every module uses for the two status enums, defined once here.
S = MessageStatus
C = CampaignStatus

FINAL_RANK = 100
RANK: dict[str, int] = {
    S.PENDING: 0,
    S.QUEUED: 10,
    S.ACCEPTED: 30,
    # "unknown" sits below the finals: a part whose submit was ambiguous may still get
    # its real receipt, which must win.
    S.UNKNOWN: 40,
    S.DELIVERED: FINAL_RANK,
    S.UNDELIVERED: FINAL_RANK,
    S.EXPIRED: FINAL_RANK,
    S.REJECTED: FINAL_RANK,
    S.FAILED: FINAL_RANK,
    S.SUPPRESSED: FINAL_RANK,
    S.CANCELLED: FINAL_RANK,
}
FINAL_STATUSES: frozenset[str] = frozenset(s for s, r in RANK.items() if r == FINAL_RANK)
# A campaign is complete when each message is final or unknown (nothing more will happen).
SETTLED_STATUSES: frozenset[str] = FINAL_STATUSES | {S.UNKNOWN}
FAILURE_STATUSES: tuple[str, ...] = (S.FAILED, S.REJECTED, S.UNDELIVERED, S.EXPIRED)
# Claimed by a batch and not yet answered: a message stays "queued" while it is on the wire
# (which messages are on the wire is kept per batch, in BatchInFlight, not per row).
IN_FLIGHT_STATUSES: frozenset[str] = frozenset({S.QUEUED})
# The reason a part (and its message) carries when the receipt deadline made it "unknown"
# (campaigns/services/receipt_deadline.py); a receipt that still comes clears it.
DEADLINE_REASON_PREFIX = "no delivery receipt within"


def rank(status: str) -> int:
    """The rank of a status; an unknown string is a programming error, not data."""
    try:
        return RANK[status]
    except KeyError:
        raise ValueError(f"not a message status: {status!r}") from None


def can_advance(current: str, new: str) -> bool:
    """True when moving from ``current`` to ``new`` is a forward move."""
    return rank(new) > rank(current)


def statuses_below(new: str) -> list[str]:
    """Statuses a row may be in for an update to ``new`` to apply (set-based filter)."""
    target = rank(new)
    return [s for s, r in RANK.items() if r < target]


def rollup(part_statuses: Iterable[str]) -> str:
    """The status of a message from the statuses of its parts.

    - every part delivered → delivered;
    - any part failed / rejected / undelivered / expired → that failure (in that order
      of precedence): the recipient did not get the whole text;
    - otherwise, once every part is settled, unknown;
    - otherwise the least advanced part's status (the message is as far as its
      slowest part).
    """
    statuses = list(part_statuses)
    if len(statuses) == 1:
        rank(statuses[0])  # still refuses a string that is no status
        return statuses[0]  # every rule below gives a lone part's own status
    if not statuses:
        raise ValueError("a message has at least one part")
    for failure in FAILURE_STATUSES:
        if failure in statuses:
            return failure
    if all(s == S.DELIVERED for s in statuses):
        return S.DELIVERED
    for terminal in (S.CANCELLED, S.SUPPRESSED):
        if all(s == terminal for s in statuses):
            return terminal
    if all(s in SETTLED_STATUSES for s in statuses):
        return S.UNKNOWN
    return min(statuses, key=rank)
