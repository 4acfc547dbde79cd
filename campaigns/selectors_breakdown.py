"""A campaign's outcome by destination country and by operator.

One GROUP BY over the campaign's messages on the number's first digits (``+`` and seven
digits: enough for the country, NANP's area code and the operator's number range), with the
counts per outcome and the segments; Python then names each prefix once, from one number of
it, with ``phonenumbers`` (its region and the carrier data). A campaign to one country has
a few hundred prefixes, so the naming costs nothing next to the scan.

The operator is the network the number range was allocated to: a number ported since keeps
its range, so the operator shown may differ from the one that serves it now (say so next to
the figures). The scan reads every message, so the result is cached like the timeline (a
minute for a settled campaign, five seconds for a running one) and the report shows it on
its own request.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from django.core.cache import cache
from django.db import connection

from campaigns.models import Account, Campaign, CampaignStatus, Message
from campaigns.statuses import FAILURE_STATUSES, S

PREFIX_CHARS = 8
PORTING_NOTE = (
    "Operator of the number range (phonenumbers' carrier data): a number ported since may be served by another."
)
UNKNOWN = "unknown"


@dataclass
class Breakdown:
    """One country or operator: counts of messages, of segments, and the delivery rate
    (delivered of those that reached an outcome on the network: delivered + failed)."""

    key: str
    label: str
    messages: int = 0
    delivered: int = 0
    failed: int = 0
    segments: int = 0
    cost: str = ""  # the spent cost, written for the page (countries only; "" without a price)
    moved: int = 0  # accounts only: messages a route moved to it (failover, routing error)

    @property
    def delivery_rate(self) -> float | None:
        done = self.delivered + self.failed
        return round(100.0 * self.delivered / done, 1) if done else None

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "label": self.label,
            "messages": self.messages,
            "delivered": self.delivered,
            "failed": self.failed,
            "segments": self.segments,
            "delivery_rate": self.delivery_rate,
        }


@lru_cache(maxsize=20000)
def _name(number: str) -> tuple[str, str, str]:
    """(region code, country in words, operator) of a number; ``unknown`` when phonenumbers
    cannot tell. The carrier and geocoder data (~110 MB in memory) load on first use, in the
    web process only: every process imports the admin, the bind workers never need them."""
    from phonenumbers import carrier, geocoder

    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        return UNKNOWN, "Unknown country", ""
    region = phonenumbers.region_code_for_number(parsed) or UNKNOWN
    country = geocoder.country_name_for_number(parsed, "en") or region
    return region, country, carrier.name_for_number(parsed, "en") or ""


def _prefix_rows(campaign_id: int) -> list[tuple[str, int, int, int, int]]:
    table = connection.ops.quote_name(Message._meta.db_table)
    fail = ", ".join(["%s"] * len(FAILURE_STATUSES))
    sql = (
        f"SELECT MIN(phone), COUNT(*), SUM(CASE WHEN status = %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN status IN ({fail}) THEN 1 ELSE 0 END), COALESCE(SUM(segments), 0) FROM {table} "
        f"WHERE campaign_id = %s AND status NOT IN (%s, %s) GROUP BY SUBSTR(phone, 1, {PREFIX_CHARS})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [S.DELIVERED, *FAILURE_STATUSES, campaign_id, S.SUPPRESSED, S.CANCELLED])
        return cursor.fetchall()


def _account_rows(campaign_id: int) -> list[Breakdown]:
    """Traffic and delivery per sending account (a route spreads a campaign over several):
    the message's own account, else its campaign's (not yet claimed)."""
    m, a = connection.ops.quote_name(Message._meta.db_table), connection.ops.quote_name(Account._meta.db_table)
    c = connection.ops.quote_name(Campaign._meta.db_table)
    fail = ", ".join(["%s"] * len(FAILURE_STATUSES))
    sql = (
        f"SELECT a.id, a.name, COUNT(*), SUM(CASE WHEN m.status = %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN m.status IN ({fail}) THEN 1 ELSE 0 END), COALESCE(SUM(m.segments), 0), "
        f"SUM(CASE WHEN m.route_note <> '' THEN 1 ELSE 0 END) "
        f"FROM {m} m JOIN {c} c ON c.id = m.campaign_id JOIN {a} a ON a.id = COALESCE(m.account_id, c.account_id) "
        f"WHERE m.campaign_id = %s AND m.status NOT IN (%s, %s) GROUP BY a.id, a.name ORDER BY COUNT(*) DESC, a.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [S.DELIVERED, *FAILURE_STATUSES, campaign_id, S.SUPPRESSED, S.CANCELLED])
        return [
            Breakdown(str(i), name, int(n), int(d), int(f), int(seg), moved=int(moved))
            for i, name, n, d, f, seg, moved in cursor.fetchall()
        ]


def _compute(campaign_id: int) -> dict[str, list[Breakdown]]:
    countries: dict[str, Breakdown] = {}
    operators: dict[tuple[str, str], Breakdown] = {}
    for phone, messages, delivered, failed, segments in _prefix_rows(campaign_id):
        region, country, operator = _name(phone)
        rows = (
            countries.setdefault(region, Breakdown(region, country)),
            operators.setdefault(
                (region, operator), Breakdown(f"{region}:{operator}", f"{operator or 'Unknown operator'} ({region})")
            ),
        )
        for row in rows:
            row.messages += messages
            row.delivered += int(delivered)
            row.failed += int(failed)
            row.segments += int(segments)

    def ordered(rows: list[Breakdown]) -> list[Breakdown]:
        return sorted(rows, key=lambda r: (-r.messages, r.key))

    return {
        "countries": ordered(list(countries.values())),
        "operators": ordered(list(operators.values())),
        "accounts": _account_rows(campaign_id),
    }


def campaign_breakdown(campaign: Campaign, *, fresh: bool = False) -> dict[str, list[Breakdown]]:
    """``{"countries": [...], "operators": [...], "accounts": [...]}``, most messages first; suppressed and
    cancelled messages never reached a network, so they are left out."""
    settled = campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)
    key = f"campaign-breakdown:{campaign.id}:{campaign.status}"
    value = None if fresh else cache.get(key)
    if value is None:
        value = _compute(campaign.id)
        cache.set(key, value, 60 if settled else 5)
    return value
