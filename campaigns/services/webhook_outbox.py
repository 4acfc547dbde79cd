"""The webhook outbox: events written by the status change that causes them, in its statement's transaction.

Every status write of :mod:`campaigns.services.status` calls one function here right after
its UPDATE, with a queryset of the rows it just changed (their new status and its ``now``).
One ``WITH … INSERT … SELECT`` per call writes the events of those rows and their
deliveries to every active endpoint that wants them, whatever the number of rows: never a
loop per row. A rolled-back change rolls its events back with it; a committed one has
them. When no endpoint is active (the common case) the call costs no statement at all:
:func:`webhooks_wanted` is an EXISTS cached for ``WEBHOOKS_ENDPOINTS_CACHE_S`` per process
(an endpoint made in another process starts getting events within that time).

PostgreSQL only (``jsonb``, ``gen_random_uuid``), as the platform's production database is: on
SQLite (``make run`` without DATABASE_URL) nothing is emitted and endpoints cannot be made.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from campaigns.models import Campaign, Message, MessagePart, WebhookDelivery, WebhookEndpoint, WebhookEvent
from campaigns.models.webhooks import DeliveryStatus, WebhookEventType
from campaigns.services.bulk_sql import quoted_table

_wanted: dict[str, float | bool] = {"checked_at": float("-inf"), "value": False}


def webhooks_wanted() -> bool:
    """Whether any endpoint is active (cached per process, see the module); never on SQLite."""
    if connection.vendor != "postgresql":
        return False
    now = time.monotonic()
    if now - float(_wanted["checked_at"]) >= settings.WEBHOOKS_ENDPOINTS_CACHE_S:
        _wanted["value"] = WebhookEndpoint.objects.filter(active=True).exists()
        _wanted["checked_at"] = now
    return bool(_wanted["value"])


def forget_endpoints() -> None:
    """Drop the cached answer of :func:`webhooks_wanted` (an endpoint was made or changed here)."""
    _wanted["checked_at"] = float("-inf")


def _matching(endpoint: str, event_type: str, campaign_id: str, api_send: str) -> str:
    """SQL: endpoint ``endpoint`` is active and wants this event of this campaign."""
    return (
        f"{endpoint}.active AND {endpoint}.events @> jsonb_build_array('{event_type}') "
        f"AND ({endpoint}.campaign_id IS NULL OR {endpoint}.campaign_id = {campaign_id}) "
        f"AND (NOT {endpoint}.api_sends_only OR {api_send})"
    )


def _write(event_type: str, changed_sql: str, payload_sql: str, params: list[Any], now: datetime) -> int:
    """One statement: the events of ``changed_sql``'s rows (alias ``ch``, with columns
    campaign_id and api_send), and their deliveries; returns how many deliveries it wrote."""
    endpoints = quoted_table(WebhookEndpoint)
    sql = (
        f"WITH ch AS ({changed_sql}), ev AS ("
        f"INSERT INTO {quoted_table(WebhookEvent)} (public_id, type, payload, created_at) "
        f"SELECT gen_random_uuid(), %s, {payload_sql}, %s FROM ch WHERE EXISTS ("
        f"SELECT 1 FROM {endpoints} ep WHERE {_matching('ep', event_type, 'ch.campaign_id', 'ch.api_send')}) "
        f"RETURNING id, (payload->>'campaign')::bigint AS campaign_id, (payload->>'api_send')::boolean AS api_send) "
        f"INSERT INTO {quoted_table(WebhookDelivery)} "
        f"(event_id, endpoint_id, status, attempts, next_attempt_at, last_error, created_at) "
        f"SELECT ev.id, ep.id, %s, 0, %s, '', %s FROM ev JOIN {endpoints} ep "
        f"ON {_matching('ep', event_type, 'ev.campaign_id', 'ev.api_send')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, event_type, now, DeliveryStatus.PENDING, now, now])
        written = max(cursor.rowcount, 0)
    if written:
        transaction.on_commit(kick_deliverer)
    return written


def message_events(changed: QuerySet[Message], *, now: datetime) -> int:
    """``message.status`` events for the messages of ``changed`` (a queryset of the rows an
    UPDATE just moved: filtered on their new status and ``updated_at = now``)."""
    if not webhooks_wanted():
        return 0
    ids_sql, ids_params = changed.values("id").query.sql_with_params()
    message, campaign, part = quoted_table(Message), quoted_table(Campaign), quoted_table(MessagePart)
    changed_sql = (
        f"SELECT m.id, m.campaign_id, m.phone, m.status, m.reason, m.segments, c.is_single_send AS api_send "
        f"FROM {message} m JOIN {campaign} c ON c.id = m.campaign_id WHERE m.id IN ({ids_sql})"
    )
    payload_sql = (
        "jsonb_build_object('id', ch.id, 'campaign', ch.campaign_id, 'phone', ch.phone, 'status', ch.status, "
        "'reason', ch.reason, 'segments', ch.segments, 'api_send', ch.api_send, 'provider_ids', "
        f"(SELECT COALESCE(jsonb_agg(p.provider_message_id ORDER BY p.index) "
        f"FILTER (WHERE p.provider_message_id IS NOT NULL), '[]'::jsonb) FROM {part} p WHERE p.message_id = ch.id))"
    )
    return _write(WebhookEventType.MESSAGE_STATUS, changed_sql, payload_sql, list(ids_params), now)


def campaign_events(changed: QuerySet[Campaign], *, now: datetime) -> int:
    """``campaign.status`` events for the campaigns of ``changed`` (rows a status write just moved)."""
    if not webhooks_wanted():
        return 0
    ids_sql, ids_params = changed.values("id").query.sql_with_params()
    changed_sql = (
        f"SELECT c.id AS campaign_id, c.name, c.status, c.is_test, c.is_single_send AS api_send, "
        f"c.started_at, c.completed_at FROM {quoted_table(Campaign)} c WHERE c.id IN ({ids_sql})"
    )
    payload_sql = (
        "jsonb_build_object('id', ch.campaign_id, 'campaign', ch.campaign_id, 'name', ch.name, "
        "'status', ch.status, 'is_test', ch.is_test, 'api_send', ch.api_send, "
        "'started_at', ch.started_at, 'completed_at', ch.completed_at)"
    )
    return _write(WebhookEventType.CAMPAIGN_STATUS, changed_sql, payload_sql, list(ids_params), now)


def click_events(*, message_id: int, url: str, agent: str, now: datetime) -> int:
    """A ``message.clicked`` event for one click on a message's tracked link (the redirect
    records the click and this in one transaction, see ``campaigns.services.clicks``)."""
    if not webhooks_wanted():
        return 0
    message, campaign = quoted_table(Message), quoted_table(Campaign)
    changed_sql = (
        f"SELECT m.id, m.campaign_id, m.phone, c.is_single_send AS api_send, %s::text AS url, %s::text AS agent "
        f"FROM {message} m JOIN {campaign} c ON c.id = m.campaign_id WHERE m.id = %s"
    )
    payload_sql = (
        "jsonb_build_object('id', ch.id, 'campaign', ch.campaign_id, 'phone', ch.phone, 'url', ch.url, "
        "'agent', ch.agent, 'api_send', ch.api_send)"
    )
    return _write(WebhookEventType.MESSAGE_CLICKED, changed_sql, payload_sql, [url, agent, message_id], now)


def kick_deliverer() -> None:
    """Ask a webhook worker to deliver what is due now (after the commit that wrote it)."""
    from campaigns.tasks_webhooks import deliver_webhooks_task

    deliver_webhooks_task.apply_async(queue=settings.WEBHOOKS_QUEUE)
