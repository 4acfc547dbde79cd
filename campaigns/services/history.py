"""Writing a campaign's history (``CampaignEvent``): one row per step, never changed after.

Callers write it inside the transaction of the change it records, so a step that rolls
back leaves no row and a row never describes a step that did not happen.
"""

from __future__ import annotations

from typing import Any

from campaigns.models import CampaignEvent


def record(*, campaign_id: int, kind: str, actor: Any = None, comment: str = "") -> CampaignEvent:
    """Append one step (``kind``: an ``EventKind``) by ``actor`` (a user, or None for the platform)."""
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    return CampaignEvent.objects.create(campaign_id=campaign_id, kind=kind, actor_id=actor_id, comment=comment)
