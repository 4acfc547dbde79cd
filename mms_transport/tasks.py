"""The MM4 sender worker's Celery task, thin: ids in, the worker module does the rest."""

from __future__ import annotations

from celery import shared_task

from config.celery import app
from mms_transport import worker

app.steps["worker"].add(worker.MM4SessionStep)


@shared_task(name="mms_transport.send_batch", ignore_result=True, acks_late=True)
def send_batch(message_ids: list[int], claim: int) -> dict[str, int]:
    return worker.send_batch(message_ids, claim)
