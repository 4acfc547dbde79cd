"""The campaign page's buttons: each one POST, one service call, its refusal shown as is.

Which buttons a person sees depends on the campaign's status and on their permissions:
sending, scheduling, pausing, resuming, cancelling, test sends and resends need
``campaigns.send_campaign``; duplicating needs the right to add campaigns. The same checks
guard the POST, so a hidden button is also a refused request (403).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest

from campaigns.errors import ApplicationError
from campaigns.forms import TestSendForm
from campaigns.models import Campaign, Contact
from campaigns.selectors_reports import preview_contacts
from campaigns.services import campaign_actions
from campaigns.services.personalise import missing_variables, recipient_context, variables_without_default
from campaigns.services.resend import UNKNOWN_RISK
from campaigns.statuses import C

SEND, ADD = "send", "add"


@dataclass(frozen=True)
class CampaignAction:
    name: str
    label: str
    statuses: tuple[str, ...]
    needs: str
    run: Callable[[Campaign, HttpRequest], Campaign]
    done: str
    style: str = ""
    confirm: str = ""
    option: ActionOption | None = None  # an opt-in checkbox beside the button, off by default


@dataclass(frozen=True)
class ActionOption:
    name: str
    label: str
    help: str


def _schedule(campaign: Campaign, request: HttpRequest) -> Campaign:
    if campaign.scheduled_at is None:
        raise ApplicationError("Set “Send at” and save the campaign first.", field="scheduled_at")
    return campaign_actions.schedule(campaign=campaign, at=campaign.scheduled_at, actor=request.user)


def _test_send(campaign: Campaign, request: HttpRequest) -> Campaign:
    form = TestSendForm(request.POST)
    if not form.is_valid():
        raise ApplicationError("; ".join(e for errors in form.errors.values() for e in errors), field="phones")
    contact_id = form.cleaned_data.get("contact")
    test = campaign_actions.send_test(campaign=campaign, phones=form.cleaned_data["phones"], contact_id=contact_id)
    contact = campaign_actions.contact_for_test(campaign=campaign, contact_id=contact_id)
    if contact is None:
        messages.success(request, "Test sent as a separate test campaign.")
        empty = variables_without_default(campaign.body)
        if empty:
            messages.warning(
                request,
                "The campaign has no recipients to take data from: "
                f"{_tags(empty)} came out empty in the test (they have no default).",
            )
    else:
        context = recipient_context(
            first_name=contact.first_name, last_name=contact.last_name, attributes=contact.attributes
        )
        empty = missing_variables(campaign.body, context)
        messages.success(request, f"Test sent as a separate test campaign, personalised as {_who(contact)}.")
        if empty:
            messages.warning(
                request,
                f"{_who(contact)} has no value for {_tags(empty)} and there is no default: "
                "it came out empty in the test, as it will for that recipient.",
            )
    return test


def _resend_failed(campaign: Campaign, request: HttpRequest) -> Campaign:
    """Resend to failed; the form's "include unknown" box (off by default) adds the messages
    that got no receipt by the deadline, at the risk the box states (UNKNOWN_RISK)."""
    include_unknown = request.POST.get("include_unknown") in ("1", "on", "true")
    return campaign_actions.resend_failed(campaign=campaign, include_unknown=include_unknown)


def _tags(names: list[str]) -> str:
    return ", ".join(f"{{{{ {n} }}}}" for n in names)


def _who(contact: Contact) -> str:
    name = f"{contact.first_name} {contact.last_name}".strip()
    return f"{name} ({contact.phone})" if name else contact.phone


TEST_SEND_CHOICES = 20


def test_send_choices(campaign: Campaign) -> list[tuple[int, str]]:
    """The first recipients (as the preview orders them), for "as" in the test-send form;
    the first is the default. Any other contact of the lists can be given by id in the API."""
    list_ids = list(campaign.recipient_lists.values_list("id", flat=True))
    return [(c.pk, _who(c)) for c in preview_contacts(list_ids, limit=TEST_SEND_CHOICES)]


ACTIONS: dict[str, CampaignAction] = {
    action.name: action
    for action in (
        CampaignAction(
            "send_now",
            "Send now",
            (C.DRAFT, C.SCHEDULED),
            SEND,
            lambda c, r: campaign_actions.send_now(campaign=c, actor=r.user),
            "Sending started.",
            "cd-primary",
            "Send this campaign to all its recipients now?",
        ),
        CampaignAction("schedule", "Save and schedule", (C.DRAFT,), SEND, _schedule, "Scheduled."),
        CampaignAction(
            "pause",
            "Pause",
            (C.RUNNING, C.SCHEDULED),
            SEND,
            lambda c, r: campaign_actions.pause(campaign=c, actor=r.user),
            "Paused: nothing more is submitted.",
        ),
        CampaignAction(
            "resume",
            "Resume",
            (C.PAUSED,),
            SEND,
            lambda c, r: campaign_actions.resume(campaign=c, actor=r.user),
            "Resumed.",
        ),
        CampaignAction(
            "cancel",
            "Cancel",
            (C.DRAFT, C.SCHEDULED, C.RUNNING, C.PAUSED),
            SEND,
            lambda c, r: campaign_actions.cancel(campaign=c, actor=r.user),
            "Cancelled: unsent messages will not go out.",
            "cd-danger",
            "Cancel this campaign for good? Unsent messages will not be sent.",
        ),
        CampaignAction("test_send", "Send a test", tuple(C.values), SEND, _test_send, ""),  # says whose data
        CampaignAction(
            "resend_failed",
            "Resend to failed",
            (C.RUNNING, C.PAUSED, C.COMPLETED, C.CANCELLED),
            SEND,
            _resend_failed,
            "A new draft with the failed recipients was created: check it, then send it.",
            option=ActionOption(
                "include_unknown",
                "also to unknown (no receipt by the deadline): may send twice",
                UNKNOWN_RISK + " Off by default.",
            ),
        ),
        CampaignAction(
            "duplicate",
            "Duplicate",
            tuple(C.values),
            ADD,
            lambda c, r: campaign_actions.duplicate(campaign=c),
            "Duplicated: this is the copy.",
        ),
    )
}


def may_use(request: HttpRequest, action: CampaignAction, *, can_add: bool) -> bool:
    if action.needs == SEND:
        return request.user.has_perm("campaigns.send_campaign")
    return can_add


def visible_actions(request: HttpRequest, campaign: Campaign, *, can_add: bool) -> list[CampaignAction]:
    """The buttons for this person and this campaign's status (none on a test campaign but
    pause and cancel: a test is not something to duplicate or resend)."""
    shown = []
    for action in ACTIONS.values():
        if campaign.status not in action.statuses or not may_use(request, action, can_add=can_add):
            continue
        if campaign.is_test and action.name not in ("pause", "cancel"):
            continue
        shown.append(action)
    return shown
