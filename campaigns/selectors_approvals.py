"""Reads behind approval before sending: a campaign's audience size, its requester, its history."""

from __future__ import annotations

from django.db.models import QuerySet

from campaigns.models import Campaign, CampaignEvent, Contact, EventKind, Message


def audience_size(campaign: Campaign) -> int:
    """How many recipients the approval rule counts: distinct numbers over the campaign's
    recipient lists, opted-out ones included (what the builder calls "recipients"); once
    the campaign is materialised, its messages (one per distinct number, suppressed ones
    included). Counted fresh, not from the preview's short cache: a list that just grew
    past the threshold must not slip through."""
    if campaign.materialised_at is not None:
        return Message.objects.filter(campaign=campaign).count()
    list_ids = list(campaign.recipient_lists.values_list("id", flat=True))
    if not list_ids:
        return 0
    contacts = Contact.objects.filter(recipient_list_id__in=list_ids)
    return contacts.count() if len(list_ids) == 1 else contacts.values("phone").distinct().count()


def approval_requester_id(campaign: Campaign) -> int | None:
    """Who asked for the approval now pending (the latest request), for the four-eyes rule."""
    return (
        CampaignEvent.objects.filter(campaign=campaign, kind=EventKind.REQUESTED)
        .order_by("-at", "-id")
        .values_list("actor_id", flat=True)
        .first()
    )


def campaign_history(campaign: Campaign) -> QuerySet[CampaignEvent]:
    """The campaign's steps, oldest first, with who took them."""
    return CampaignEvent.objects.filter(campaign=campaign).select_related("actor").order_by("at", "id")
