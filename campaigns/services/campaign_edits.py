"""Editing a campaign: what may change in which state, and what a change does to its messages.

The admin and the API apply the same rules:

- draft, scheduled, and paused before it ever started: nothing is made yet, so everything
  may change;
- paused after it started: its messages exist (one per recipient, on its account and
  channel) and keep their recipients, so ``channel``, ``account`` and ``recipient_lists``
  are fixed. The text, MMS subject and media, sender, send rate, quiet hours, time zone
  and validity period may change and apply to the messages **not yet sent** (pending, no
  part submitted); what was sent stays as sent;
- running, completed, cancelled: read-only (pause first).

Any saved edit of what an approver judged (text, MMS subject and media, sender, channel,
account, recipient lists) withdraws the campaign's approval (``approvals.withdraw``), in whatever
state it is edited.

Why the unsent messages need touching at all: a text without variables is copied into
each message when the campaign is materialised, and a personalised one is rendered into
the messages a tick has claimed; a message deferred by quiet hours carries the time the
old window opens. Each is reset with one UPDATE, so the next claim uses the new settings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from campaigns.errors import ApplicationError
from campaigns.models import Campaign, Message, MessagePart
from campaigns.services import approvals
from campaigns.statuses import C, MessageStatus

EDITABLE_STATUSES = (C.DRAFT, C.SCHEDULED, C.PAUSED)
# Smart encoding too: a message begun under it has parts cut from the replaced text, and a
# part retried later must come from the same cut (campaigns/services/submit.py).
FIXED_ONCE_STARTED = ("channel", "account", "recipient_lists", "smart_encoding")
TEXT_FIELDS = frozenset({"body", "track_links"})  # tracked links are written into the body
TIMING_FIELDS = frozenset({"quiet_hours_start", "quiet_hours_end", "timezone"})
FIELD_LABELS = {
    "channel": "channel",
    "account": "account",
    "recipient_lists": "recipient lists",
    "smart_encoding": "smart encoding",
}


def is_editable(campaign: Campaign) -> bool:
    return campaign.status in EDITABLE_STATUSES


def has_started(campaign: Campaign) -> bool:
    """Its messages exist: the recipients, account and channel are settled."""
    return campaign.materialised_at is not None


def fixed_fields(campaign: Campaign) -> tuple[str, ...]:
    """Fields that may not change in the campaign's current state (beyond read-only ones)."""
    return FIXED_ONCE_STARTED if has_started(campaign) else ()


def require_editable(campaign: Campaign) -> None:
    """Sending reads the campaign's text, settings and media: change them only while nothing is sent."""
    if not is_editable(campaign):
        raise ApplicationError(
            f"A {campaign.get_status_display().lower()} campaign cannot be edited (pause it first).",
            field="status",
            code="invalid_state",
        )


def changed_fields(campaign: Campaign, values: Mapping[str, Any]) -> set[str]:
    """Which of ``values`` (field → new value; lists as objects or ids) differ from the campaign."""
    changed = set()
    for name, value in values.items():
        if name == "recipient_lists":
            old = set(campaign.recipient_lists.values_list("id", flat=True)) if campaign.pk else set()
            if {getattr(v, "pk", v) for v in value} != old:
                changed.add(name)
        elif name == "account":
            if getattr(value, "pk", value) != campaign.account_id:
                changed.add(name)
        elif getattr(campaign, name, None) != value:
            changed.add(name)
    return changed


def check_edit(*, campaign: Campaign, changed: Iterable[str]) -> None:
    """Refuse an edit the campaign's state does not allow, naming the field."""
    require_editable(campaign)
    for name in fixed_fields(campaign):
        if name in set(changed):
            raise ApplicationError(
                f"The {FIELD_LABELS[name]} cannot change once sending has started: its messages were made "
                "for these recipients on this account. Duplicate the campaign to send it differently.",
                field=name,
                code="invalid_state",
            )


def unsent_messages(campaign: Campaign) -> QuerySet[Message]:
    """Messages of the campaign with nothing submitted yet (an edit still applies to them)."""
    return Message.objects.filter(campaign=campaign, status=MessageStatus.PENDING).exclude(
        Exists(MessagePart.objects.filter(message_id=OuterRef("id")))
    )


def apply_edit(*, campaign: Campaign, changed: Iterable[str], actor: Any = None) -> int:
    """Make the unsent messages follow the saved edit; returns how many it touched.

    First, an edit of what an approver judged withdraws the approval (by ``actor``, in the
    history), whether or not the campaign has started.

    The text: the message body is emptied, so the next claim renders the new text (or, when
    it has no variables, the submit takes the campaign's). Quiet hours or time zone: the
    deferral is dropped, so the next claim places each message in the new window. Sender,
    send rate, validity period, MMS subject and media are read from the campaign at claim
    or submit time and need nothing here.
    """
    changed = set(changed)
    approvals.withdraw(campaign=campaign, changed=changed, actor=actor)
    if not has_started(campaign):
        return 0
    updates: dict[str, Any] = {}
    if changed & TEXT_FIELDS:
        updates["body"] = ""
    if changed & TIMING_FIELDS:
        updates["not_before"] = None
    if not updates:
        return 0
    return unsent_messages(campaign).update(**updates, updated_at=timezone.now())
