"""Which account sends each message of a routed campaign, decided at claim time in SQL.

A route's entries map prefixes to accounts. For one tick the entries whose account can
send now (not in :func:`unavailable_accounts`) become a :class:`RoutePlan`: per prefix,
each account's slice ``[lo, hi)`` of ``0 … total``. A message takes the longest prefix its
phone starts with among those entries (so when every account of ``+447`` is down, ``+44``
or the default catches its numbers: that is the failover), and the account whose slice
holds ``(id × 1000003) mod total``. Ids of a campaign are consecutive, and 1000003 is a
prime above any weight sum (``routes.check_entries``), so every run of ``total``
consecutive messages splits exactly by weight, interleaved (smooth), with no per-row work
in Python. ``least_cost`` gives each prefix one slice: its cheapest account that can send
and has budget left (entry price, else the account's segment price for the prefix's
country, else its default price; unpriced last, then by position).

The selection is one statement per batch (:func:`selection`), used by
``status.claim_routed``.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection

from campaigns.models import Account, Channel, Message, Route, RouteEntry, RouteStrategy
from campaigns.selectors_cost import country_of, price_table
from campaigns.services.bulk_sql import quoted_table
from campaigns.services.senders import SubmitOutcome
from campaigns.statuses import S

MAX_WEIGHT_TOTAL = 1000003  # a prefix's weights add up to less (keeps id × spread well inside bigint)
_GOLDEN = 0.6180339887498949


@functools.lru_cache(maxsize=256)  # per claim, per prefix: the same few totals
def spread(total: int) -> int:
    """The multiplier that spreads a prefix's messages over its weights: ``id × k mod total``.

    Coprime with ``total``, so every ``total`` consecutive ids take every residue once (the
    split is exact per ``total`` messages), and close to ``total`` × (√5 − 1)/2, so
    consecutive ids land far apart (golden-ratio spacing): a 70/30 route interleaves its
    accounts instead of giving one of them twenty-odd messages in a row (a multiplier of 3
    modulo 100 did that)."""
    k = max(1, round(total * _GOLDEN))
    while math.gcd(k, total) != 1:
        k += 1
    return k


Unavailable = Callable[[list[str]], dict[str, str]]  # system_ids → {system_id: why it cannot send}
_unavailable: dict[str, Unavailable] = {}


def register_availability(channel: str, check: Unavailable) -> None:
    """Called by a transport's AppConfig.ready(): which of these accounts cannot send now, and
    why (the domain imports no transport; ``smpp_transport.availability`` reads bind health)."""
    _unavailable[channel] = check


def unavailable_accounts(accounts: Iterable[Account], channel: str) -> dict[int, str]:
    """Accounts of ``accounts`` that cannot send on ``channel`` now, with the reason."""
    out: dict[int, str] = {}
    rest = []
    for a in accounts:
        stopped = a.smpp_stopped_reason if channel == Channel.SMS else a.mm4_stopped_reason
        if not a.active:
            out[a.id] = "account inactive"
        elif stopped:
            out[a.id] = f"stopped: {stopped}"
        else:
            rest.append(a)
    check = _unavailable.get(channel)
    if check and rest:
        why = check([a.system_id for a in rest])
        out.update({a.id: why[a.system_id] for a in rest if a.system_id in why})
    return out


@dataclass(frozen=True)
class Slice:
    prefix: str
    account_id: int
    lo: int
    hi: int
    total: int


@dataclass(frozen=True)
class RoutePlan:
    """A route as it applies in this tick: slices of the accounts that can send."""

    route_id: int
    slices: tuple[Slice, ...]

    @property
    def account_ids(self) -> set[int]:
        return {s.account_id for s in self.slices}


def route_accounts(route_id: int) -> list[Account]:
    return list(Account.objects.filter(route_entries__route_id=route_id).distinct())


def entry_price(entry: RouteEntry, tables: dict[int, Any]) -> Decimal | None:
    """What one segment costs through this entry: its own price, else the price table's."""
    if entry.price is not None:
        return entry.price
    table = tables.get(entry.account_id)
    if table is None:
        table = tables[entry.account_id] = price_table(entry.account_id)
    return table.price(country_of(entry.prefix)) if entry.prefix else table.default


def plan_route(route: Route, *, down: set[int], full: Collection[int] = ()) -> RoutePlan:
    """The route's slices without the accounts in ``down``. Least cost: each prefix's
    cheapest account, passing over those in ``full`` (their budget for this tick is spent)
    while a dearer one has room, so the cheapest sends all it can and the rest overflows."""
    by_prefix: dict[str, list[RouteEntry]] = defaultdict(list)
    for entry in route.entries.order_by("prefix", "position", "id"):
        if entry.account_id not in down:
            by_prefix[entry.prefix].append(entry)
    slices: list[Slice] = []
    tables: dict[int, Any] = {}
    for prefix, entries in by_prefix.items():
        if route.strategy == RouteStrategy.LEAST_COST:
            priced = sorted(
                ((entry_price(e, tables), e.position, e.id, e) for e in entries),
                key=lambda t: (t[0] is None, t[0] or 0, t[1], t[2]),
            )
            best = next((t[3] for t in priced if t[3].account_id not in full), priced[0][3])
            slices.append(Slice(prefix, best.account_id, 0, 1, 1))
            continue
        total = sum(e.weight for e in entries)
        lo = 0
        for e in entries:
            slices.append(Slice(prefix, e.account_id, lo, lo + e.weight, total))
            lo += e.weight
    return RoutePlan(route.id, tuple(slices))


def _pick_sql(plan: RoutePlan) -> tuple[str, list[Any]]:
    """The account the plan gives message ``m``, as one scalar expression: the prefixes
    longest first (``CASE WHEN m.phone LIKE '+447%' …``), then the slice holding the
    message's spread id. Scalar, so a batch costs a few comparisons per row, no join."""
    by_prefix: dict[str, list[Slice]] = defaultdict(list)
    for s in plan.slices:
        by_prefix[s.prefix].append(s)
    whens, params = [], []
    for prefix in sorted(by_prefix, key=len, reverse=True):
        slices = by_prefix[prefix]
        total = int(slices[0].total)
        k = spread(total)
        inner = " ".join(f"WHEN (m.id * {k}) %% {total} < {int(s.hi)} THEN {int(s.account_id)}" for s in slices)
        whens.append(f"WHEN m.phone LIKE %s THEN CASE {inner} END")
        params.append(prefix + "%")
    return f"CASE {' '.join(whens)} END", params


def _rerouted_pick_sql(plan: RoutePlan) -> tuple[str, list[Any]]:
    """The same for a message refused with a routing error (``rerouted_from``): the longest
    prefix with another account, and there its own slice if another's, else the first
    other. A correlated subquery over the plan's few rows, for those rare messages only."""
    values = ", ".join(["(%s::text, %s::bigint, %s::bigint, %s::bigint, %s::bigint, %s::bigint)"] * len(plan.slices))
    params: list[Any] = [
        v for s in plan.slices for v in (s.prefix, s.account_id, s.lo, s.hi, s.total, spread(int(s.total)))
    ]
    h = "(m.id * e.spread) %% e.total"
    sql = (
        f"(SELECT e.account_id FROM (VALUES {values}) e(prefix, account_id, lo, hi, total, spread) "
        f"WHERE m.phone LIKE e.prefix || '%%' AND e.account_id <> m.rerouted_from "
        f"ORDER BY length(e.prefix) DESC, ({h} >= e.lo AND {h} < e.hi) DESC, e.lo LIMIT 1)"
    )
    return sql, params


def selection(
    *, plan: RoutePlan, campaign_id: int, account_id: int, limit: int, now: datetime, after: int | None = None
) -> tuple[str, list[Any]]:
    """SQL selecting (and locking, skipping locked rows) up to ``limit`` due pending messages
    of the campaign that the plan gives ``account_id``, in id order; only ids above ``after``
    (the previous batch's last, in the same tick) when given."""
    pick, pick_params = _pick_sql(plan)
    rerouted, rerouted_params = _rerouted_pick_sql(plan)
    m = quoted_table(Message)
    only = " AND m.id > %s" if after is not None else ""
    lock = " FOR UPDATE OF m SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (
        f"SELECT m.id FROM {m} m "
        f"WHERE m.campaign_id = %s AND m.status = %s AND (m.not_before IS NULL OR m.not_before <= %s){only} "
        f"AND (CASE WHEN m.rerouted_from IS NULL THEN {pick} ELSE {rerouted} END) = %s "
        f"ORDER BY m.id LIMIT %s{lock}"
    )
    params: list[Any] = [campaign_id, S.PENDING, now]
    if after is not None:
        params.append(after)
    params += [*pick_params, *rerouted_params, account_id, limit]
    return sql, params


def move_off_unavailable(*, now: datetime) -> int:
    """Failover: queued messages of running routed campaigns whose account cannot send, and
    that no batch has started (no BatchInFlight holds them), go back to pending with why;
    the next claim gives them another account of the route (their stale batch skips them).
    A started batch is left to its worker, which releases what it could not send."""
    from campaigns.models import BatchInFlight, Campaign, CampaignStatus
    from campaigns.services import status

    routed = Campaign.objects.filter(status=CampaignStatus.RUNNING, route__isnull=False)
    accounts = Account.objects.filter(route_entries__route__campaigns__in=routed).distinct()
    moved = 0
    for channel in (Channel.SMS, Channel.MMS):
        down = unavailable_accounts(accounts, channel)
        for account_id, why in down.items():
            held = [
                i
                for ids in BatchInFlight.objects.filter(account_id=account_id).values_list("message_ids", flat=True)
                for i in ids
            ]
            messages = Message.objects.filter(
                campaign__in=routed.filter(channel=channel), account_id=account_id, status=S.QUEUED
            ).exclude(id__in=held)
            moved += status.back_to_pending(messages, now=now, route_note=f"moved off account {account_id}: {why}")
    return moved


def reroute_refusals(outcomes: list[SubmitOutcome]) -> list[SubmitOutcome]:
    """A routed message whose every part was refused on its first send with a routing error
    (``settings.ROUTE_ERROR_CODES``: the provider does not serve the number) is retried once
    on the next account of its route: its answers become "retry", and the message records
    the account that refused it (never chosen for it again) and why. Others pass unchanged.
    Called inside the transaction that records the answers."""
    codes = set(settings.ROUTE_ERROR_CODES)
    by_message: dict[int, list[SubmitOutcome]] = defaultdict(list)
    for o in outcomes:
        by_message[o.part.message_id].append(o)
    refused = {
        mid: os
        for mid, os in by_message.items()
        if all(o.outcome == "failed" and o.error_code in codes and o.part.first_send for o in os)
    }
    if not refused:
        return outcomes
    rows = Message.objects.filter(id__in=list(refused), rerouted_from__isnull=True, campaign__route__isnull=False)
    rows = rows.values_list("id", "phone", "campaign__route_id", named=True)
    entries: dict[int, list[tuple[str, int]]] = {}
    moved: dict[int, list[int]] = defaultdict(list)  # refusing account → messages
    for row in rows:
        if row.campaign__route_id not in entries:
            entries[row.campaign__route_id] = list(
                RouteEntry.objects.filter(route_id=row.campaign__route_id).values_list("prefix", "account_id")
            )
        refusing = refused[row.id][0].part.account_id
        if any(row.phone.startswith(p) and a != refusing for p, a in entries[row.campaign__route_id]):
            moved[refusing].append(row.id)
    retried: set[int] = set()
    for account_id, ids in moved.items():
        error = refused[ids[0]][0].error or "routing error"
        Message.objects.filter(id__in=ids).update(
            rerouted_from=account_id, route_note=f"{error} on account {account_id}: retried on the next account"[:200]
        )
        retried.update(ids)
    return [replace(o, outcome="retry") if o.part.message_id in retried else o for o in outcomes]


def serves(route_id: int, phone: str) -> bool:
    """Whether any entry of the route is for this number (its prefix, or the default)."""
    return any(
        phone.startswith(p) for p in RouteEntry.objects.filter(route_id=route_id).values_list("prefix", flat=True)
    )


def suppress_unrouted(*, campaign_id: int, route_id: int) -> int:
    """A routed campaign's messages to numbers no entry of its route is for (a route without
    a default) would wait for ever: they are suppressed with the reason, once, at start."""
    from campaigns.services import status

    prefixes = set(RouteEntry.objects.filter(route_id=route_id).values_list("prefix", flat=True))
    if "" in prefixes:
        return 0
    messages = Message.objects.filter(campaign_id=campaign_id)
    for p in prefixes:
        messages = messages.exclude(phone__startswith=p)
    return status.suppress_pending(messages, reason="no entry of the campaign's route is for this number")
