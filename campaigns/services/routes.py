"""Writes of routes: a route and its entries are saved together, entries replaced whole.

A route is edited as one document (its prefixes and their accounts), so an update replaces
the entries in the same transaction: a tick never sees half a route. A route in use by a
campaign cannot be deleted (the campaign would lose its accounts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError

from campaigns.errors import ApplicationError
from campaigns.models import Route, RouteEntry
from campaigns.services.routing import MAX_WEIGHT_TOTAL


def check_entries(entries: Sequence[dict[str, Any]]) -> None:
    """At least one entry, an account at most once per prefix, and weights that the
    routing's spread keeps exact (``routing.MAX_WEIGHT_TOTAL``)."""
    if not entries:
        raise ApplicationError("A route needs at least one entry (a prefix and an account).", field="entries")
    seen = set()
    sums: dict[str, int] = {}
    for e in entries:
        sums[e.get("prefix", "")] = sums.get(e.get("prefix", ""), 0) + e.get("weight", 1)
        if sums[e.get("prefix", "")] >= MAX_WEIGHT_TOTAL:
            raise ApplicationError(f"A prefix's weights must add up to less than {MAX_WEIGHT_TOTAL}.", field="entries")
        key = (e.get("prefix", ""), e["account"].id)
        if key in seen:
            raise ApplicationError(
                f"Account {key[1]} appears twice for prefix '{key[0] or 'default'}'.", field="entries"
            )
        seen.add(key)


@transaction.atomic
def save_route(*, route: Route | None, fields: dict[str, Any], entries: Sequence[dict[str, Any]] | None) -> Route:
    """Create or change a route; ``entries`` (None: unchanged) replace its entries."""
    route = route or Route()
    for name, value in fields.items():
        setattr(route, name, value)
    route.save()
    if entries is not None:
        check_entries(entries)
        route.entries.all().delete()
        RouteEntry.objects.bulk_create(
            RouteEntry(
                route=route,
                prefix=e.get("prefix", ""),
                account=e["account"],
                weight=e.get("weight", 1),
                price=e.get("price"),
                position=e.get("position", k),
            )
            for k, e in enumerate(entries)
        )
    return route


def delete_route(*, route: Route) -> None:
    try:
        route.delete()
    except ProtectedError:
        raise ApplicationError(
            "Campaigns use this route; give them another route or account first.", field="route", code="in_use"
        ) from None


def home_account(route: Route) -> Any:
    """The account a routed campaign names as its own (settings, opt-outs, reports): the
    route's first entry, default prefix first."""
    entries = route.entries.select_related("account")
    entry = entries.filter(prefix="").order_by("position", "id").first() or entries.order_by("position", "id").first()
    if entry is None:
        raise ApplicationError("The route has no entries.", field="route")
    return entry.account
