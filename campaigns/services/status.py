"""The one way a message or part changes status: forward only, set-based.

Each function issues a single UPDATE whose WHERE clause admits only rows in a lower-ranked
status, so concurrent writers (a receipt applier and a late submit result, two redelivered
batches) cannot move a row backwards and a duplicate update is a no-op by construction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Case, F, Model, Value, When
from django.utils import timezone

from campaigns.models import Message, MessagePart
from campaigns.statuses import DEADLINE_REASON_PREFIX, FINAL_STATUSES, MessageStatus, rollup, statuses_below


def _advance(model: type[Model], ids: Iterable[int], status: str, fields: dict[str, Any]) -> int:
    id_list = list(ids)
    if not id_list:
        return 0
    values: dict[str, Any] = {"status": status, "updated_at": timezone.now(), **fields}
    if status in FINAL_STATUSES and "done_at" not in values:
        values["done_at"] = values["updated_at"]
    return model.objects.filter(id__any=id_list, status__in=statuses_below(status)).update(**values)


def advance_parts(part_ids: Iterable[int], status: str, **fields: Any) -> int:
    """Move parts forward to ``status`` (and set ``fields``); rows already past it are untouched.

    Returns how many rows moved.
    """
    return _advance(MessagePart, part_ids, status, fields)


def advance_messages(message_ids: Iterable[int], status: str, **fields: Any) -> int:
    """Move messages forward to ``status``; rows already at or past it are untouched."""
    return _advance(Message, message_ids, status, fields)


def part_statuses(message_ids: Iterable[int]) -> dict[int, list[str]]:
    """Every part status of these messages, in one read (for roll-ups)."""
    parts: dict[int, list[str]] = defaultdict(list)
    id_list = list(set(message_ids))
    if id_list:
        for message_id, status in MessagePart.objects.filter(message_id__any=id_list).values_list(
            "message_id", "status"
        ):
            parts[message_id].append(status)
    return parts


def without_deadline_reason(column: str) -> Case:
    """``column`` emptied if it holds the receipt deadline's words, else kept: a receipt that
    comes after the deadline makes them untrue (a plain value in the UPDATE, no extra read)."""
    return Case(When(**{f"{column}__startswith": DEADLINE_REASON_PREFIX}, then=Value("")), default=F(column))


def roll_up_messages(message_ids: Iterable[int], *, unknown_reason: str = "") -> int:
    """Recompute each message's status from its parts (rule: :func:`campaigns.statuses.rollup`).

    One read of the parts, then one forward-only UPDATE per resulting status. Messages that
    become "unknown" get ``unknown_reason`` when one is given (the receipt deadline's words);
    a message moving to any other status loses those words, if it had them.
    """
    by_status: dict[str, list[int]] = defaultdict(list)
    for message_id, statuses in part_statuses(message_ids).items():
        by_status[rollup(statuses)].append(message_id)
    moved = 0
    for status, ids in by_status.items():
        if status == MessageStatus.UNKNOWN:
            fields = {"reason": unknown_reason} if unknown_reason else {}
        else:
            fields = {"reason": without_deadline_reason("reason")}
        moved += advance_messages(ids, status, **fields)
    return moved
