"""A click on a short link: look the code up and record the click, in one statement.

The redirect is the one public, unauthenticated path of the web app that a whole campaign's
recipients may hit within minutes, so it costs one round trip to the database: a
data-modifying CTE reads the code (its unique index, and the link by primary key) and
inserts the click in the same autocommitted statement, so a 302 is only answered once the
click is durable. The raw user agent is reduced to a class before it is stored; the
client's address is kept only with ``LINK_CLICK_STORE_IP``.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime

import psycopg
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Click, ShortCode, TrackedLink, UserAgentClass
from campaigns.services.bulk_sql import quoted_table
from campaigns.services.webhook_outbox import click_events, webhooks_wanted

# Link previewers of chat apps and mail scanners fetch the link before (or instead of) a
# person: counted apart, never as a unique click.
_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|whatsapp|telegram|skype|slack|discord|"
    r"curl/|wget/|python-|go-http|java/|okhttp|headless|scanner|monitor",
    re.IGNORECASE,
)
_MOBILE = re.compile(r"mobi|android|iphone|ipad|ipod|windows phone|blackberry|opera mini|kaios", re.IGNORECASE)
_DESKTOP = re.compile(r"windows nt|macintosh|mac os x|x11|linux x86_64|cros", re.IGNORECASE)


@functools.lru_cache(maxsize=4096)  # a campaign's clicks come from a few hundred phone models
def agent_class(user_agent: str) -> str:
    """bot / mobile / desktop / other, from a User-Agent header (bots first: many previewers
    claim to be a phone as well)."""
    if not user_agent:
        return UserAgentClass.OTHER
    if _BOT.search(user_agent):
        return UserAgentClass.BOT
    if _MOBILE.search(user_agent):
        return UserAgentClass.MOBILE
    if _DESKTOP.search(user_agent):
        return UserAgentClass.DESKTOP
    return UserAgentClass.OTHER


def follow_code(*, code: str, user_agent: str, ip: str | None, now: datetime | None = None) -> str | None:
    """The original URL of a live code, its click recorded; None for an unknown or expired one.

    The click's time is the database's clock (``statement_timestamp()``) unless ``now`` is
    given (tests): one parameter fewer to adapt on the hot path, and the same clock as the
    expiry check. SQLite (``make run``) has no data-modifying CTE: a SELECT, then the INSERT.
    """
    agent = agent_class(user_agent)
    if connection.vendor != "postgresql":
        return _follow_code_two_statements(code, agent, ip, now or timezone.now())
    sql = _follow_sql(given_clock=now is not None)
    times = [now] if now is not None else []
    if not webhooks_wanted():  # the common case: one statement, autocommitted
        connection.ensure_connection()
        # psycopg's own cursor, binding on the server: a third of the CPU of Django's
        # cursor (its wrappers and client-side quoting) on the one public hot path; errors
        # still go through Django's wrapper, so a broken connection is closed after them.
        with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
            cursor.execute(sql, [code, *times, *times, agent, ip])
            row = cursor.fetchone()
        return row[0] if row else None
    with transaction.atomic(), connection.cursor() as cursor:  # the click and its event together
        cursor.execute(sql, [code, *times, *times, agent, ip])
        row = cursor.fetchone()
        if row is not None:
            click_events(message_id=row[1], url=row[0], agent=agent, now=now or timezone.now())
    return row[0] if row else None


@functools.cache
def _follow_sql(*, given_clock: bool) -> str:
    """The one statement of a click (built once per process: it is on the hot path)."""
    clock = "%s" if given_clock else "statement_timestamp()"
    return f"""
        WITH hit AS (
            SELECT s.message_id, s.link_id, l.campaign_id, l.url
            FROM {quoted_table(ShortCode)} s JOIN {quoted_table(TrackedLink)} l ON l.id = s.link_id
            WHERE s.code = %s AND (s.expires_at IS NULL OR s.expires_at > {clock})
        ), clicked AS (
            INSERT INTO {quoted_table(Click)} (campaign_id, message_id, link_id, clicked_at, agent, ip)
            SELECT campaign_id, message_id, link_id, {clock}, %s, %s FROM hit
        )
        SELECT url, message_id FROM hit
    """


def _follow_code_two_statements(code: str, agent: str, ip: str | None, now: datetime) -> str | None:
    at = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.message_id, s.link_id, l.campaign_id, l.url FROM {quoted_table(ShortCode)} s "
            f"JOIN {quoted_table(TrackedLink)} l ON l.id = s.link_id "
            "WHERE s.code = %s AND (s.expires_at IS NULL OR s.expires_at > %s)",
            [code, at],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        cursor.execute(
            f"INSERT INTO {quoted_table(Click)} (campaign_id, message_id, link_id, clicked_at, agent, ip) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [row[2], row[0], row[1], at, agent, ip],
        )
    return row[3]
