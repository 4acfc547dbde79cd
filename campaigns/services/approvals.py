"""Approval before sending: a campaign above ``APPROVAL_REQUIRED_ABOVE`` recipients is
scheduled, sent or resumed only once a user with the ``approver`` role has approved it.

The steps (each recorded in the campaign's history, ``campaigns.services.history``):

- a marketer **requests** approval (state ``pending``); a rejected campaign may ask again;
- an approver **approves** or **rejects** it with a comment (a rejection needs one, so the
  marketer knows what to change). Four eyes: nobody approves or rejects a campaign they
  created or whose approval they requested, whatever roles they hold;
- an edit of what the approver saw (text, MMS subject and media, sender, channel, account,
  recipient lists) **withdraws** the approval (``campaign_edits.apply_edit`` calls :func:`withdraw`);
  a scheduled campaign goes back to draft (while the rule is on), so it cannot start unseen;
- the tick checks again before a scheduled campaign starts (:func:`hold_unapproved`): one
  whose lists grew past the threshold after it was scheduled goes back to draft too.

Test sends need no approval: they go to at most 20 numbers the marketer typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns.errors import ApplicationError
from campaigns.models import ApprovalState, Campaign, EventKind
from campaigns.selectors_approvals import approval_requester_id, audience_size
from campaigns.services import history, status
from campaigns.statuses import C

APPROVE_PERMISSION = "campaigns.approve_campaign"
# What the approver judged: changing any of these withdraws the approval.
APPROVED_FIELDS = frozenset({"body", "mms_subject", "media", "sender", "channel", "account", "recipient_lists"})
# Where approval can still matter: nothing is sending.
OPEN_STATUSES = (C.DRAFT, C.SCHEDULED, C.PAUSED)
A = ApprovalState


def threshold() -> int | None:
    """``APPROVAL_REQUIRED_ABOVE``: None (unset) means approval is off."""
    return settings.APPROVAL_REQUIRED_ABOVE


def needs_approval(campaign: Campaign) -> bool:
    """Whether the rule applies to this campaign (approved or not): more than K recipients
    (K = 0: every campaign). Test campaigns never need it."""
    limit = threshold()
    if limit is None or campaign.is_test:
        return False
    return limit == 0 or audience_size(campaign) > limit


def require_approval(campaign: Campaign) -> None:
    """Refuse (code ``approval_required``) to schedule, send or resume a campaign the rule
    applies to unless it is approved, saying what to do next. The state is read afresh:
    an approval withdrawn a moment ago by another edit counts."""
    limit = threshold()
    if limit is None or campaign.is_test:
        return
    state = Campaign.objects.filter(pk=campaign.pk).values_list("approval_state", flat=True).first()
    if state == A.APPROVED:
        return
    audience = audience_size(campaign)
    if limit and audience <= limit:
        return
    who = "every campaign needs" if limit == 0 else f"a campaign to more than {limit:,} recipients needs"
    why = f"This campaign goes to {audience:,} recipients and {who} an approver's approval first."
    next_step = {
        A.PENDING: "Approval was requested and is waiting for an approver.",
        A.REJECTED: "It was rejected: change it and request approval again.",
    }.get(state, "Request approval.")
    raise ApplicationError(f"{why} {next_step}", field="approval_state", code="approval_required")


def _locked(campaign: Campaign) -> Campaign:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status not in OPEN_STATUSES:
        raise ApplicationError(
            f"A {locked.get_status_display().lower()} campaign cannot go through approval.",
            field="status",
            code="invalid_state",
        )
    return locked


def _set(campaign: Campaign, **fields: Any) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(**fields)
    for name, value in fields.items():
        setattr(campaign, name, value)


def request_approval(*, campaign: Campaign, actor: Any, comment: str = "") -> Campaign:
    """Ask an approver to look at the campaign (from no approval yet, or after a rejection).
    What could not be sent anyway (no lists, a broken template) is refused first."""
    from campaigns.services.campaign_actions import validate_for_sending  # it imports this module

    validate_for_sending(campaign)
    with transaction.atomic():
        locked = _locked(campaign)
        if locked.approval_state == A.PENDING:
            raise ApplicationError("Approval was already requested.", field="approval_state", code="invalid_state")
        if locked.approval_state == A.APPROVED:
            raise ApplicationError("The campaign is already approved.", field="approval_state", code="invalid_state")
        _set(campaign, approval_state=A.PENDING, approved_by=None, approved_at=None)
        history.record(campaign_id=campaign.pk, kind=EventKind.REQUESTED, actor=actor, comment=comment.strip())
    return campaign


def _decide(campaign: Campaign, actor: Any, comment: str, verb: str) -> Campaign:
    """The checks an approval and a rejection share, the campaign locked until the caller commits."""
    if not (actor is not None and actor.is_active and actor.has_perm(APPROVE_PERMISSION)):
        raise ApplicationError(f"Only an approver may {verb} campaigns.", code="permission_denied")
    locked = _locked(campaign)
    if locked.approval_state != A.PENDING:
        raise ApplicationError(
            f"Only a campaign waiting for approval can be {verb}d; request approval first.",
            field="approval_state",
            code="invalid_state",
        )
    if actor.pk in {locked.created_by_id, approval_requester_id(locked)}:
        raise ApplicationError(
            f"You cannot {verb} a campaign you created or asked approval for: another approver must (four eyes).",
            code="self_approval",
        )
    return locked


def approve(*, campaign: Campaign, actor: Any, comment: str = "") -> Campaign:
    """An approver's yes: the campaign may now be scheduled or sent as it stands."""
    with transaction.atomic():
        _decide(campaign, actor, comment, "approve")
        _set(campaign, approval_state=A.APPROVED, approved_by=actor, approved_at=timezone.now())
        history.record(campaign_id=campaign.pk, kind=EventKind.APPROVED, actor=actor, comment=comment.strip())
    return campaign


def reject(*, campaign: Campaign, actor: Any, comment: str) -> Campaign:
    """An approver's no, with the reason (required)."""
    if not comment.strip():
        raise ApplicationError("Say why the campaign is rejected.", field="comment")
    with transaction.atomic():
        _decide(campaign, actor, comment, "reject")
        _set(campaign, approval_state=A.REJECTED, approved_by=None, approved_at=None)
        history.record(campaign_id=campaign.pk, kind=EventKind.REJECTED, actor=actor, comment=comment.strip())
    return campaign


def withdraw(*, campaign: Campaign, changed: Iterable[str], actor: Any = None) -> bool:
    """An approved (or pending) campaign was edited where the approver looked: back to no
    approval, recorded with the changed fields. A scheduled campaign goes back to draft
    while the rule is on (the admin saves the new lists after this, so they are not
    counted here). Returns whether anything was withdrawn."""
    touched = sorted(set(changed) & APPROVED_FIELDS)
    if not touched or campaign.approval_state not in (A.APPROVED, A.PENDING):
        return False
    with transaction.atomic():
        _set(campaign, approval_state=A.NONE, approved_by=None, approved_at=None)
        note = "changed: " + ", ".join(name.replace("_", " ") for name in touched)
        history.record(campaign_id=campaign.pk, kind=EventKind.WITHDRAWN, actor=actor, comment=note)
        if campaign.status == C.SCHEDULED and threshold() is not None:
            _unschedule(campaign, actor, "needs approval again")
    return True


def _unschedule(campaign: Campaign, actor: Any, why: str) -> bool:
    if not status.move_campaign(campaign.pk, C.DRAFT, only_from=[C.SCHEDULED]):
        return False
    campaign.status = C.DRAFT
    history.record(campaign_id=campaign.pk, kind=EventKind.UNSCHEDULED, actor=actor, comment=why)
    return True


def hold_unapproved(campaign: Campaign) -> bool:
    """Before a due scheduled campaign starts: back to draft if it needs an approval it
    lacks (recorded, with the reason). Returns True when it was held."""
    try:
        require_approval(campaign)
    except ApplicationError as exc:
        with transaction.atomic():
            return _unschedule(campaign, None, exc.message)
    return False
