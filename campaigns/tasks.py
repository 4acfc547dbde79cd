"""Celery tasks of the domain: thin wrappers that call services.

``tick`` is the one beat entry: it starts due campaigns, hands each account its next
batches, applies receipts, settles parts past their receipt deadline and completes
finished campaigns.
"""

from __future__ import annotations

from celery import shared_task

from campaigns.models import Channel
from campaigns.services import senders, submit
from campaigns.services.claims import Batch
from campaigns.services.dispatch import tick
from campaigns.services.receipt_deadline import settle_overdue_parts
from campaigns.services.receipts import adopt_ambiguous_parts, apply_receipts, orphan_stale_receipts

# The CSV import task lives in its own module; importing it here registers it with workers
# (Celery autodiscovers ``campaigns.tasks`` only).
from campaigns.tasks_import import import_contacts_task  # noqa: F401
from campaigns.tasks_webhooks import deliver_webhooks_task  # noqa: F401
from config.celery import account_queues


def enqueue_batch(batch: Batch) -> None:
    """Route a batch to its account's queue; the bind (or MM4) workers of that account consume it."""
    queues = account_queues(batch.system_id)
    queue = queues.mm4 if batch.channel == Channel.MMS else queues.smpp
    send_batch_task.apply_async(args=[batch.channel, batch.message_ids, batch.claim], queue=queue)


@shared_task(name="campaigns.send_batch", ignore_result=True, acks_late=True)
def send_batch_task(channel: str, message_ids: list[int], claim: int) -> dict[str, int]:
    """One batch, in the worker that consumes the account's queue: the domain's send loop
    with the sender that worker's transport registered for ``channel``."""
    with senders.sending(channel) as sender:
        return submit.send_batch(message_ids=message_ids, claim=claim, sender=sender)


@shared_task(name="campaigns.tick", ignore_result=True, expires=5)
def tick_task() -> int:
    apply_receipts()
    settle_overdue_parts()  # before tick(): a campaign it settles completes in this tick
    batches = tick(enqueue=enqueue_batch)
    apply_receipts()
    return len(batches)


@shared_task(name="campaigns.housekeeping", ignore_result=True, expires=300)
def housekeeping_task() -> int:
    """Slow-moving upkeep: orphan receipts past their TTL, forget old idempotency keys."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from campaigns.models import IdempotencyKey

    keep = timedelta(days=settings.IDEMPOTENCY_KEY_TTL_DAYS)
    IdempotencyKey.objects.filter(created_at__lt=timezone.now() - keep).delete()
    return orphan_stale_receipts()


@shared_task(name="campaigns.adopt_ambiguous", ignore_result=True, expires=30)
def adopt_ambiguous_task() -> int:
    adopted = adopt_ambiguous_parts()
    if adopted:
        apply_receipts()
    return adopted
