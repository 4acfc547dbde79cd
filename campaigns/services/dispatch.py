"""The tick: start due campaigns, hand each account the work its binds can do next, finish.

One beat entry calls :func:`tick` about every second. It starts the campaigns that are due,
recovers batches whose worker died, moves routed messages off accounts that are down, has
each active account claim its next batches (``campaigns.services.claims``: what its binds
can send within the horizon, no more) and completes the campaigns with nothing left to do.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from campaigns.models import Account, Campaign, CampaignStatus, Channel, Message
from campaigns.services import approvals, routing, status
from campaigns.services.claims import Batch, Enqueue, claim_batches
from campaigns.services.materialise import materialise_recipients
from campaigns.statuses import SETTLED_STATUSES

logger = logging.getLogger(__name__)


def start_due_campaigns(*, now: datetime) -> list[int]:
    """Scheduled campaigns whose time has come become running, with their messages created."""
    started = []
    for campaign in Campaign.objects.filter(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now):
        if approvals.hold_unapproved(campaign):  # lists grew past the approval threshold after scheduling
            continue
        if start_campaign(campaign=campaign, now=now):
            started.append(campaign.id)
    return started


def start_campaign(*, campaign: Campaign, now: datetime) -> bool:
    """Move a draft or scheduled campaign to running and materialise it (idempotent)."""
    moved = status.move_campaign(
        campaign.id, CampaignStatus.RUNNING, only_from=[CampaignStatus.SCHEDULED, CampaignStatus.DRAFT], started_at=now
    )
    if not moved:
        return False
    campaign.refresh_from_db()
    if campaign.materialised_at is None:
        count = materialise_recipients(campaign=campaign)
        logger.info("campaign %s started: %s messages", campaign.id, count)
        if campaign.route_id is not None:
            routing.suppress_unrouted(campaign_id=campaign.id, route_id=campaign.route_id)
    return True


def recover_stalled(*, now: datetime) -> int:
    """The database, not the broker, decides what is still owed (see
    :func:`campaigns.services.submit_recovery.recover_abandoned`)."""
    from campaigns.services.submit_recovery import recover_abandoned

    released, taken = recover_abandoned(now=now)
    return released + taken


def complete_finished_campaigns(*, now: datetime) -> list[int]:
    """Running campaigns whose every message is final or unknown become completed."""
    done = []
    for campaign in Campaign.objects.filter(status=CampaignStatus.RUNNING, materialised_at__isnull=False):
        if not Message.objects.filter(campaign=campaign).exclude(status__in=SETTLED_STATUSES).exists():
            status.move_campaign(
                campaign.id, CampaignStatus.COMPLETED, only_from=[CampaignStatus.RUNNING], completed_at=now
            )
            done.append(campaign.id)
    return done


def tick(*, enqueue: Enqueue, now: datetime | None = None) -> list[Batch]:
    """One scheduling step; ``enqueue`` is called after commit for every claimed batch."""
    now = now or timezone.now()
    start_due_campaigns(now=now)
    recover_stalled(now=now)
    routing.move_off_unavailable(now=now)
    batches: list[Batch] = []
    active = Account.objects.filter(
        Q(campaigns__status=CampaignStatus.RUNNING, campaigns__route__isnull=True)
        | Q(route_entries__route__campaigns__status=CampaignStatus.RUNNING),
        active=True,
    ).distinct()
    for account in active:
        for channel in (Channel.SMS, Channel.MMS):
            stopped = account.smpp_stopped_reason if channel == Channel.SMS else account.mm4_stopped_reason
            if stopped:
                continue
            batches.extend(claim_batches(account=account, channel=channel, now=now, enqueue=enqueue))
    complete_finished_campaigns(now=now)
    return batches
