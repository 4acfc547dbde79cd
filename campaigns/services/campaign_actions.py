"""What a marketer can do to a campaign. Each checks the status first and says why not.

Used by the admin and the API alike, so both enforce the same rules. Scheduling, sending
and resuming also need the approval the rule may ask for (``approvals.require_approval``;
test sends are exempt), and each state move is written to the campaign's history with who
made it (``actor``: the user, None for the platform).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from campaigns.errors import ApplicationError
from campaigns.models import Campaign, Channel, Contact, EventKind, Message
from campaigns.selectors_reports import preview_contacts
from campaigns.services import approvals, history, status
from campaigns.services.dispatch import start_campaign
from campaigns.services.mms import validate_mms_for_sending
from campaigns.services.personalise import template_problems
from campaigns.services.phones import InvalidPhoneNumber, normalise_phone
from campaigns.services.resend import failed_recipients_list, fit_name, resend_statuses
from campaigns.statuses import C

logger = logging.getLogger(__name__)


def _tick_now() -> None:
    """Run a tick as soon as this transaction commits: *send now* should not wait up to a
    beat interval for its first batch. Best effort: if the broker will not take it at once,
    the next beat tick does the same work, so the action itself never fails for it."""

    def enqueue() -> None:
        from campaigns.tasks import tick_task

        try:
            tick_task.apply_async(retry=False)
        except Exception as exc:  # noqa: BLE001 - any broker error; beat covers it
            logger.warning("could not enqueue an immediate tick (%s); the next beat tick will start it", exc)

    transaction.on_commit(enqueue)


def _require(campaign: Campaign, allowed: Iterable[str], action: str) -> None:
    if campaign.status not in allowed:
        raise ApplicationError(
            f"Cannot {action} a campaign that is {campaign.get_status_display().lower()}.",
            field="status",
            code="invalid_state",
        )


def validate_for_sending(campaign: Campaign) -> None:
    """Refuse to start what cannot be sent, with the reason."""
    problems = template_problems(campaign.body)
    if problems:
        raise ApplicationError(problems[0], field="body")
    if not campaign.body.strip() and campaign.channel == "sms":
        raise ApplicationError("The message is empty.", field="body")
    has_messages = campaign.materialised_at is not None
    if not campaign.is_test and not has_messages and not campaign.recipient_lists.exists():
        raise ApplicationError("Choose at least one recipient list.", field="recipient_lists")
    if not campaign.account.active:
        raise ApplicationError("The account is inactive.", field="account")
    if campaign.channel == Channel.MMS:
        validate_mms_for_sending(campaign)


def schedule(*, campaign: Campaign, at: datetime, actor: Any = None) -> Campaign:
    _require(campaign, [C.DRAFT, C.SCHEDULED], "schedule")
    if timezone.is_naive(at):
        raise ApplicationError("Give the time with its time zone.", field="scheduled_at")
    validate_for_sending(campaign)
    approvals.require_approval(campaign)
    with transaction.atomic():
        status.move_campaign(campaign.id, C.SCHEDULED, scheduled_at=at)
        history.record(campaign_id=campaign.id, kind=EventKind.SCHEDULED, actor=actor, comment=f"for {at.isoformat()}")
    campaign.refresh_from_db()
    return campaign


def send_now(*, campaign: Campaign, actor: Any = None) -> Campaign:
    _require(campaign, [C.DRAFT, C.SCHEDULED], "send")
    validate_for_sending(campaign)
    approvals.require_approval(campaign)
    with transaction.atomic():
        if start_campaign(campaign=campaign, now=timezone.now()):
            history.record(campaign_id=campaign.id, kind=EventKind.SENT, actor=actor)
        _tick_now()
    campaign.refresh_from_db()
    return campaign


def pause(*, campaign: Campaign, actor: Any = None) -> Campaign:
    """Stop new submits: claimed-but-unsent messages go back to pending."""
    _require(campaign, [C.RUNNING, C.SCHEDULED], "pause")
    with transaction.atomic():
        status.move_campaign(campaign.id, C.PAUSED)
        # The sanctioned step back: queued (not yet handed to a bind) → pending.
        status.back_to_pending(Message.objects.filter(campaign=campaign), now=timezone.now())
        history.record(campaign_id=campaign.id, kind=EventKind.PAUSED, actor=actor)
    campaign.refresh_from_db()
    return campaign


def resume(*, campaign: Campaign, actor: Any = None) -> Campaign:
    _require(campaign, [C.PAUSED], "resume")
    validate_for_sending(campaign)  # it may have been edited while paused
    approvals.require_approval(campaign)  # an edit while paused may have withdrawn the approval
    to = C.RUNNING if campaign.started_at else C.SCHEDULED
    with transaction.atomic():
        status.move_campaign(campaign.id, to)
        history.record(campaign_id=campaign.id, kind=EventKind.RESUMED, actor=actor)
        if to == C.RUNNING:
            _tick_now()
    campaign.refresh_from_db()
    return campaign


def cancel(*, campaign: Campaign, actor: Any = None) -> Campaign:
    """Stop for good: every message not yet handed to a bind is cancelled."""
    _require(campaign, [C.DRAFT, C.SCHEDULED, C.RUNNING, C.PAUSED], "cancel")
    now = timezone.now()
    with transaction.atomic():
        status.move_campaign(campaign.id, C.CANCELLED, completed_at=now)
        status.cancel_unsent(Message.objects.filter(campaign=campaign), reason="campaign cancelled", now=now)
        history.record(campaign_id=campaign.id, kind=EventKind.CANCELLED, actor=actor)
    campaign.refresh_from_db()
    return campaign


# A copy starts afresh: a draft, never sent, and not approved (an approval is of one campaign).
_NOT_COPIED = frozenset(
    {"id", "status", "scheduled_at", "started_at", "completed_at", "materialised_at", "created_at"}
    | {"approval_state", "approved_by", "approved_at"}
)


def _copy(campaign: Campaign, **overrides) -> Campaign:
    fields = {f.name: getattr(campaign, f.name) for f in Campaign._meta.concrete_fields if f.name not in _NOT_COPIED}
    fields.update(overrides)
    return Campaign.objects.create(**fields)


def _copy_media(source: Campaign, copy: Campaign) -> None:
    for media in source.media.all():
        copy.media.create(file=media.file, content_type=media.content_type, size=media.size, position=media.position)


def duplicate(*, campaign: Campaign) -> Campaign:
    copy = _copy(campaign, name=fit_name(campaign.name, " (copy)"), is_test=False, resend_of=None)
    copy.recipient_lists.set(campaign.recipient_lists.all())
    _copy_media(campaign, copy)
    return copy


def send_test(*, campaign: Campaign, phones: list[str], contact_id: int | None = None) -> Campaign:
    """Send the campaign's message to a few numbers, as a separate test campaign.

    The text is personalised from one recipient's data, so the test shows what recipients
    get: the contact ``contact_id`` (one of the campaign's recipients), or by default its
    first recipient as the preview shows it. Test campaigns are flagged ``is_test`` and kept
    out of reports and statistics.
    """
    if not phones:
        raise ApplicationError("Give at least one number.", field="phones")
    if len(phones) > 20:
        raise ApplicationError("A test send goes to at most 20 numbers.", field="phones")
    normalised = []
    for raw in phones:
        try:
            normalised.append(normalise_phone(raw))
        except InvalidPhoneNumber as exc:
            raise ApplicationError(exc.message, field="phones") from None
    _validate_test(campaign)
    contact = contact_for_test(campaign=campaign, contact_id=contact_id)
    with transaction.atomic():
        test = _copy(campaign, name=fit_name(campaign.name, prefix="Test: "), is_test=True, resend_of=None)
        _copy_media(campaign, test)
        Message.objects.bulk_create(
            [Message(campaign=test, phone=p, contact=contact) for p in dict.fromkeys(normalised)],
            ignore_conflicts=True,
        )
        now = timezone.now()
        status.move_campaign(test.id, C.RUNNING, started_at=now, materialised_at=now)
        _tick_now()
    test.refresh_from_db()
    return test


def contact_for_test(*, campaign: Campaign, contact_id: int | None = None) -> Contact | None:
    """Whose data a test send is personalised with: the given contact, which must be one of
    the campaign's recipients, or its first recipient (None when it has no recipients)."""
    list_ids = list(campaign.recipient_lists.values_list("id", flat=True))
    if contact_id is None:
        first = preview_contacts(list_ids, limit=1)
        return first[0] if first else None
    contact = Contact.objects.filter(id=contact_id, recipient_list_id__in=list_ids).first()
    if contact is None:
        raise ApplicationError("Choose a contact from the campaign's recipient lists.", field="contact")
    return contact


def _validate_test(campaign: Campaign) -> None:
    problems = template_problems(campaign.body)
    if problems:
        raise ApplicationError(problems[0], field="body")
    if not campaign.account.active:
        raise ApplicationError("The account is inactive.", field="account")


def resend_failed(*, campaign: Campaign, include_unknown: bool = False) -> Campaign:
    """A new draft campaign to the recipients whose messages failed in this one.

    Its recipients are a list of their own (see :mod:`campaigns.services.resend`), so the
    draft shows, previews, edits and sends like any other draft. ``include_unknown`` adds
    the messages that got no receipt by the deadline (opt-in: they may have arrived, and
    would then arrive twice).
    """
    statuses = resend_statuses(include_unknown=include_unknown)
    if not Message.objects.filter(campaign=campaign, status__in=statuses).exists():
        what = "failed or unknown" if include_unknown else "failed"
        raise ApplicationError(f"No {what} messages to resend.", code="nothing_to_do")
    suffix = " (resend to failed and unknown)" if include_unknown else " (resend to failed)"
    with transaction.atomic():
        recipients, _ = failed_recipients_list(campaign=campaign, include_unknown=include_unknown)
        resend = _copy(campaign, name=fit_name(campaign.name, suffix), resend_of=campaign, is_test=False)
        resend.recipient_lists.set([recipients])
        _copy_media(campaign, resend)
    resend.refresh_from_db()
    return resend
