"""The webhook deliverer's task: thin, on a queue of its own (``WEBHOOKS_QUEUE``).

Kicked after each commit that wrote deliveries (``webhook_outbox.kick_deliverer``) and by
beat every ``WEBHOOKS_BEAT_S`` (retries falling due). Parallel runs are safe: each claims
its own deliveries with SKIP LOCKED.
"""

from __future__ import annotations

from celery import shared_task

from campaigns.services.webhook_delivery import deliver_due


@shared_task(name="campaigns.deliver_webhooks", ignore_result=True, acks_late=True, expires=60)
def deliver_webhooks_task() -> int:
    return deliver_due()
