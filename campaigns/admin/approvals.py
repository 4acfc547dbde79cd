"""Approval before sending on the campaign page: the panel an approver decides from, its
three buttons (request, approve, reject with a comment) and the read-only history.

The panel shows what the approver is asked to judge, from the builder's own preview
(``campaigns.admin.preview.build_preview`` on the saved campaign: the first recipients'
texts, segments, estimated cost and duration) and the audience size the rule counts
(``selectors_approvals.audience_size``). Each button is one POST to one service in
``campaigns.services.approvals``; its refusal (four eyes, wrong state) is shown as is.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect

from campaigns.admin.preview import build_preview
from campaigns.errors import ApplicationError
from campaigns.models import ApprovalState, Campaign
from campaigns.selectors_approvals import approval_requester_id, audience_size, campaign_history
from campaigns.services import approvals

A = ApprovalState
SEND_PERMISSION = "campaigns.send_campaign"
BADGE = {A.NONE: "cancelled", A.PENDING: "pending", A.APPROVED: "completed", A.REJECTED: "rejected"}
DONE = {
    "request": "Approval requested: an approver will look at it.",
    "approve": "Approved: it may now be scheduled or sent.",
    "reject": "Rejected: the marketer sees your comment.",
}


def _may_decide(request: HttpRequest, campaign: Campaign) -> bool:
    user = request.user
    return (
        user.has_perm(approvals.APPROVE_PERMISSION)
        and campaign.approval_state == A.PENDING
        and user.pk not in {campaign.created_by_id, approval_requester_id(campaign)}
    )


def approval_context(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    """The page's ``approval`` (None when the rule is off and nothing was ever asked) and ``history``."""
    history = list(campaign_history(campaign))
    limit = approvals.threshold()
    if campaign.is_test or (limit is None and campaign.approval_state == A.NONE):
        return {"approval": None, "history": history}
    open_ = campaign.status in approvals.OPEN_STATUSES
    decide = open_ and _may_decide(request, campaign)
    audience = audience_size(campaign)
    panel: dict[str, Any] = {
        "state": campaign.approval_state,
        "state_display": campaign.get_approval_state_display(),
        "badge": BADGE[campaign.approval_state],
        "needed": limit is not None and (limit == 0 or audience > limit),  # approvals.needs_approval, counted once
        "threshold": limit,
        "audience": audience,
        "approved_by": campaign.approved_by,
        "approved_at": campaign.approved_at,
        "can_request": open_
        and request.user.has_perm(SEND_PERMISSION)
        and campaign.approval_state in (A.NONE, A.REJECTED),
        "can_decide": decide,
        "own": campaign.approval_state == A.PENDING
        and request.user.has_perm(approvals.APPROVE_PERMISSION)
        and not decide,
        "last_comment": next((e.comment for e in reversed(history) if e.kind == "rejected"), ""),
    }
    if decide or campaign.approval_state == A.PENDING:
        panel["preview"] = _preview(campaign)
    return {"approval": panel, "history": history}


def _preview(campaign: Campaign) -> dict[str, Any]:
    """The builder's preview of the campaign as saved (what the approver approves)."""
    return build_preview(
        body=campaign.body,
        channel=campaign.channel,
        account=campaign.account,
        list_ids=list(campaign.recipient_lists.values_list("id", flat=True)),
        send_rate=campaign.send_rate,
        quiet_hours=(campaign.quiet_hours_start, campaign.quiet_hours_end),
        smart_encoding=campaign.smart_encoding,
        track_links=campaign.track_links,
    )


def approval_view(model_admin: Any, request: HttpRequest, object_id: str, decision: str) -> HttpResponse:
    """POST …/approval/<request|approve|reject>/: one service call, then back to the page."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if decision not in DONE:
        raise Http404("No such step.")
    campaign = model_admin._campaign(request, object_id)
    needed = SEND_PERMISSION if decision == "request" else approvals.APPROVE_PERMISSION
    if not request.user.has_perm(needed):
        raise PermissionDenied
    comment = str(request.POST.get("comment", ""))[:2000]
    try:
        if decision == "request":
            approvals.request_approval(campaign=campaign, actor=request.user, comment=comment)
        elif decision == "approve":
            approvals.approve(campaign=campaign, actor=request.user, comment=comment)
        else:
            approvals.reject(campaign=campaign, actor=request.user, comment=comment)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        model_admin.log_change(request, campaign, f"Approval: {decision}")
        messages.success(request, DONE[decision])
    return redirect("admin:campaigns_campaign_change", campaign.pk)


def note_withdrawal(request: HttpRequest, before: str, campaign: Campaign) -> None:
    """After a save: say so when the edit withdrew the approval (and undid the schedule)."""
    if before in (A.APPROVED, A.PENDING) and campaign.approval_state == A.NONE:
        undone = " It is a draft again: schedule it once approved." if campaign.status == "draft" else ""
        messages.warning(request, f"The edit withdrew the approval: request approval again.{undone}")
