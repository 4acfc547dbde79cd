"""Deliver the webhook outbox: claim due deliveries, POST them signed, record the outcomes.

At least once: a delivery is claimed (its ``next_attempt_at`` pushed out by a lease, its
attempt counted) with ``SELECT … FOR UPDATE SKIP LOCKED`` and committed before the POST,
so parallel workers never take the same one and a worker that dies mid-POST leaves it to
be retried when the lease runs out; the receiver may then see it twice and dedupes by
``X-Webhook-Id``. Outcomes are recorded in one UPDATE per batch.

Retried (exponential backoff with full jitter, Retry-After honoured) on timeouts,
connection errors, 5xx and 429, for ``WEBHOOKS_RETRY_FOR_S`` after the event; any other
4xx is final. An endpoint whose every attempt has failed for ``WEBHOOKS_DISABLE_AFTER_S``
is disabled with the reason shown in the admin and the API.
"""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from campaigns.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent
from campaigns.services.bulk_sql import quoted_table, values_source
from campaigns.services.webhook_http import checked_session, signature
from campaigns.services.webhook_outbox import forget_endpoints
from campaigns.statuses import FINAL_STATUSES

_local = threading.local()


@dataclass(frozen=True)
class Outcome:
    """What one POST came to."""

    delivery_id: int
    endpoint_id: int
    ok: bool
    retryable: bool = False
    status_code: int | None = None
    error: str = ""
    retry_after_s: float | None = None


@dataclass(frozen=True)
class Job:
    """One claimed delivery, with its event and endpoint: what a POST needs, read in the claim."""

    delivery_id: int
    attempts: int
    event_id: str
    type: str
    payload: dict
    created_at: datetime
    endpoint: WebhookEndpoint


def body_of(job: Job) -> bytes:
    """The JSON body: event id, type, time, and the message (or campaign) as it became; no secrets."""
    payload = dict(job.payload)
    subject = "campaign" if job.type == "campaign.status" else "message"  # message.status, message.clicked
    if subject == "campaign":
        payload.pop("campaign", None)
    body = {"id": job.event_id, "type": job.type, "created": job.created_at.isoformat(), subject: payload}
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def claim_due(*, limit: int, now: datetime) -> list[Job]:
    """Up to ``limit`` due deliveries of active endpoints, leased to this worker (committed), read
    with their events in the same statement; their (few) endpoints in one more read. Webhooks
    need PostgreSQL (the outbox writes nothing on SQLite, the demo's database): nothing there."""
    if connection.vendor != "postgresql":
        return []
    table, endpoints = quoted_table(WebhookDelivery), quoted_table(WebhookEndpoint)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET next_attempt_at = %s, attempts = {table}.attempts + 1 "
            f"FROM {quoted_table(WebhookEvent)} e WHERE e.id = {table}.event_id AND {table}.id IN ("
            f"SELECT d.id FROM {table} d JOIN {endpoints} ep ON ep.id = d.endpoint_id "
            f"WHERE d.status = %s AND d.next_attempt_at <= %s AND ep.active "
            f"ORDER BY d.next_attempt_at LIMIT %s FOR UPDATE OF d SKIP LOCKED) "
            f"RETURNING {table}.id, {table}.endpoint_id, {table}.attempts, "
            f"e.public_id, e.type, e.payload, e.created_at",
            [now + timedelta(seconds=settings.WEBHOOKS_LEASE_S), DeliveryStatus.PENDING, now, limit],
        )
        rows = cursor.fetchall()
    if not rows:
        return []
    by_id = WebhookEndpoint.objects.select_related("signed_by").in_bulk({row[1] for row in rows})
    jobs = []
    for delivery_id, endpoint_id, attempts, public_id, kind, payload, created_at in sorted(rows):
        if isinstance(payload, str):  # a driver that hands jsonb over as text
            payload = json.loads(payload)
        jobs.append(Job(delivery_id, attempts, str(public_id), kind, payload, created_at, by_id[endpoint_id]))
    return jobs


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
    except (TypeError, ValueError):
        return None


def post(job: Job) -> Outcome:
    """POST one delivery (a session per thread and endpoint, so connections are kept alive)."""
    sessions = getattr(_local, "sessions", None)
    if sessions is None:
        sessions = _local.sessions = {}
    endpoint = job.endpoint
    session = sessions.get(endpoint.id) or sessions.setdefault(endpoint.id, checked_session())
    body = body_of(job)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "campaign-dispatch-webhooks/1",
        "X-Webhook-Id": job.event_id,
        "X-Webhook-Timestamp": timestamp,
        "X-Signature-256": signature(endpoint.signing_secret, timestamp, body),
    }
    ids = {"delivery_id": job.delivery_id, "endpoint_id": endpoint.id}
    timeout = (settings.WEBHOOKS_CONNECT_TIMEOUT_S, settings.WEBHOOKS_READ_TIMEOUT_S)
    try:
        response = session.post(endpoint.url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    except requests.Timeout as exc:
        return Outcome(**ids, ok=False, retryable=True, error=f"timeout: {exc}"[:255])
    except requests.RequestException as exc:
        return Outcome(**ids, ok=False, retryable=True, error=f"{type(exc).__name__}: {exc}"[:255])
    code = response.status_code
    response.close()
    if 200 <= code < 300:
        return Outcome(**ids, ok=True, status_code=code)
    retryable = code >= 500 or code == 429
    after = _retry_after(response) if retryable else None
    return Outcome(**ids, ok=False, retryable=retryable, status_code=code, error=f"HTTP {code}", retry_after_s=after)


def backoff_s(attempts: int) -> float:
    """The wait before attempt ``attempts + 1``: exponential, capped, full jitter (at least half)."""
    ceiling = min(settings.WEBHOOKS_RETRY_MAX_S, settings.WEBHOOKS_RETRY_BASE_S * 2 ** max(attempts - 1, 0))
    return ceiling * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


def record(jobs: list[Job], outcomes: list[Outcome], *, now: datetime) -> None:
    """Store every outcome in one UPDATE, then the endpoints' run of failures (and disable)."""
    by_id = {job.delivery_id: job for job in jobs}
    rows = []
    for outcome in outcomes:
        job = by_id[outcome.delivery_id]
        status, due, delivered_at = DeliveryStatus.PENDING, now, None
        if outcome.ok:
            status, delivered_at = DeliveryStatus.DELIVERED, now
        elif not outcome.retryable:
            status = DeliveryStatus.FAILED
        else:
            wait = backoff_s(job.attempts)
            if outcome.retry_after_s is not None:
                wait = min(max(outcome.retry_after_s, wait / 4), settings.WEBHOOKS_RETRY_MAX_S)
            due = now + timedelta(seconds=wait)
            if due > job.created_at + timedelta(seconds=settings.WEBHOOKS_RETRY_FOR_S):
                status = DeliveryStatus.GAVE_UP
        rows.append((outcome.delivery_id, status, due, outcome.error[:255], outcome.status_code, delivered_at))
    columns = [
        ("id", "bigint"),
        ("status", "text"),
        ("next_attempt_at", "timestamptz"),
        ("last_error", "text"),
        ("last_status_code", "int"),
        ("delivered_at", "timestamptz"),
    ]
    source, params = values_source(columns, rows)
    table = quoted_table(WebhookDelivery)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = v.status, next_attempt_at = v.next_attempt_at, "
                f"last_error = v.last_error, last_status_code = v.last_status_code, "
                f"delivered_at = v.delivered_at FROM {source} WHERE {table}.id = v.id",
                params,
            )
        _track_endpoints(outcomes, now=now)
        _retire_finished_callbacks(jobs, outcomes)


def _track_endpoints(outcomes: list[Outcome], *, now: datetime) -> None:
    succeeded = {o.endpoint_id for o in outcomes if o.ok}
    failed = {o.endpoint_id for o in outcomes if not o.ok} - succeeded
    if succeeded:
        WebhookEndpoint.objects.filter(id__in=succeeded, failing_since__isnull=False).update(failing_since=None)
    if not failed:
        return
    WebhookEndpoint.objects.filter(id__in=failed, failing_since__isnull=True).update(failing_since=now)
    cutoff = now - timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER_S)
    last_error = {o.endpoint_id: o.error for o in outcomes if not o.ok}
    for endpoint in WebhookEndpoint.objects.filter(id__in=failed, active=True, failing_since__lte=cutoff):
        reason = (
            f"Disabled {now:%Y-%m-%d %H:%M} UTC: every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M}"
        )
        reason += f" (last: {last_error.get(endpoint.id, '')})"
        WebhookEndpoint.objects.filter(id=endpoint.id).update(active=False, disabled_reason=reason[:255])
        forget_endpoints()


def _retire_finished_callbacks(jobs: list[Job], outcomes: list[Outcome]) -> None:
    """A send's callback endpoint is switched off once its message's final status is delivered
    and nothing else is pending for it: otherwise every API send would leave an active
    endpoint behind, and each status write's outbox statement would match against them all."""
    delivered = {o.delivery_id for o in outcomes if o.ok}
    done = {
        job.endpoint.id
        for job in jobs
        if job.delivery_id in delivered and job.endpoint.signed_by_id and job.payload.get("status") in FINAL_STATUSES
    }
    if done:
        pending = WebhookDelivery.objects.filter(endpoint_id=OuterRef("pk"), status=DeliveryStatus.PENDING)
        WebhookEndpoint.objects.filter(id__in=done, active=True).exclude(Exists(pending)).update(
            active=False, disabled_reason="Done: the message's final status was delivered."
        )
        forget_endpoints()


_pool: dict[int, ThreadPoolExecutor] = {}


def _senders() -> ThreadPoolExecutor:
    """The process's POSTing threads, kept: each keeps its connections to the endpoints alive."""
    size = max(1, settings.WEBHOOKS_PARALLEL)
    if size not in _pool:
        _pool[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="webhook-post")
    return _pool[size]


def deliver_due(*, budget_s: float = 30.0) -> int:
    """Deliver what is due, batch after batch, for at most about ``budget_s``; returns POSTs made."""
    started, made = time.monotonic(), 0
    while time.monotonic() - started < budget_s:
        jobs = claim_due(limit=settings.WEBHOOKS_BATCH, now=timezone.now())
        if not jobs:
            break
        outcomes = list(_senders().map(post, jobs))
        record(jobs, outcomes, now=timezone.now())
        made += len(jobs)
        if len(jobs) < settings.WEBHOOKS_BATCH:
            break
    return made


def redeliver(delivery_ids: list[int]) -> int:
    """Queue these deliveries again, now (the admin's "redeliver"): a fresh 24 h of retries."""
    return WebhookDelivery.objects.filter(id__in=delivery_ids).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now(), last_error=""
    )
