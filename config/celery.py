"""The Celery app.

Bind queues carry batches of message-part ids; losing one would lose messages, so every
queue is durable, tasks are acknowledged only after they finish (``acks_late``) and go
back to the queue when a worker dies (``reject_on_worker_lost``). Prefetch is 1: a bind
worker must not hoard batches that its siblings on the same account could be sending.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from celery import Celery
from celery.signals import worker_init
from kombu import Exchange, Queue
from kombu.transport import TRANSPORT_ALIASES

from config.log_filters import quiet_celery_ticks
from plumbing.supervisor import watch_parent

# make run's broker: kombu's file-system transport with atomic writes (config/fs_broker.py).
TRANSPORT_ALIASES["filesystem"] = "config.fs_broker:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("campaign_dispatch")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Overridable so that parallel test runs on one broker never consume each other's ticks.
DEFAULT_QUEUE = os.environ.get("CELERY_DEFAULT_QUEUE", "default")


@dataclass(frozen=True)
class AccountQueues:
    """Names of the broker queues that belong to one provider account."""

    smpp: str
    mm4: str


def account_queues(system_id: str) -> AccountQueues:
    """The one place that names an account's queues: ``smpp.<system_id>``, ``mm4.<system_id>``."""
    if not system_id or any(c.isspace() for c in system_id):
        raise ValueError(f"system_id {system_id!r} cannot name a queue")
    return AccountQueues(smpp=f"smpp.{system_id}", mm4=f"mm4.{system_id}")


def durable_queue(name: str) -> Queue:
    """A durable queue on the direct exchange of the same name as the routing key."""
    return Queue(name, Exchange(name, type="direct", durable=True), routing_key=name, durable=True)


app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue=DEFAULT_QUEUE,
    task_queues=[durable_queue(DEFAULT_QUEUE)],
    task_create_missing_queues=True,
    task_default_delivery_mode="persistent",
    task_serializer="json",
    accept_content=["json"],
    result_backend=None,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    timezone="UTC",
    enable_utc=True,
)
app.steps["consumer"].add("config.worker_loop:PromptAckLoop")
quiet_celery_ticks()  # no INFO line per tick (config/log_filters.py)
app.autodiscover_tasks()


@worker_init.connect
def _stop_with_supervisor(**_: object) -> None:
    """A supervised worker stops when its supervisor dies (fallback to PR_SET_PDEATHSIG)."""
    watch_parent()
