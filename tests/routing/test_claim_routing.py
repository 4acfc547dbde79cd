"""Routes at claim time: longest prefix, weights, least cost, budgets per assigned account."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from campaigns.models import Message, Route, RouteEntry, RouteStrategy, SegmentPrice
from campaigns.services import campaign_actions as actions
from campaigns.services.dispatch import tick
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, RecipientListFactory

pytestmark = pytest.mark.django_db


def _route(strategy: str = RouteStrategy.WEIGHTED, entries=()) -> Route:
    route = Route.objects.create(name=f"r-{strategy}-{len(entries)}", strategy=strategy)
    for position, (prefix, account, weight, price) in enumerate(entries):
        RouteEntry.objects.create(
            route=route, prefix=prefix, account=account, weight=weight, price=price, position=position
        )
    return route


def _routed_campaign(route: Route, phones: list[str], body: str = "Hi") -> object:
    lst = RecipientListFactory()
    for phone in phones:
        ContactFactory(recipient_list=lst, phone=phone)
    home = route.entries.order_by("position").first().account
    campaign = CampaignFactory(account=home, route=route, body=body)
    campaign.recipient_lists.add(lst)
    actions.send_now(campaign=campaign)
    return campaign


def _big(**kw):
    return AccountFactory(binds=4, rate_per_bind=10000, **kw)


def _drain(campaign, ticks: int = 20) -> list:
    batches = []
    for _ in range(ticks):
        got = tick(enqueue=lambda b: None)
        batches += got
        Message.objects.filter(campaign=campaign, status=S.QUEUED).update(status=S.ACCEPTED)
        if not Message.objects.filter(campaign=campaign, status=S.PENDING).exists():
            break
    return batches


def test_longest_prefix_wins_and_the_default_catches_the_rest() -> None:
    uk, uk_mobile, other = _big(), _big(), _big()
    route = _route(entries=[("+44", uk, 1, None), ("+447", uk_mobile, 1, None), ("", other, 1, None)])
    phones = ["+447911000001", "+447911000002", "+441632960001", "+33612345678", "+4915112345678"]
    campaign = _routed_campaign(route, phones)
    batches = _drain(campaign)
    got = dict(Message.objects.filter(campaign=campaign).values_list("phone", "account_id"))
    assert got == {
        "+447911000001": uk_mobile.id,
        "+447911000002": uk_mobile.id,
        "+441632960001": uk.id,
        "+33612345678": other.id,
        "+4915112345678": other.id,
    }
    # Each batch went to the queue of the account its messages were given.
    for b in batches:
        accounts = set(Message.objects.filter(id__in=b.message_ids).values_list("account_id", flat=True))
        assert accounts == {b.account_id}


def test_weights_split_70_30_exactly_per_hundred_and_interleaved() -> None:
    a, b = _big(), _big()
    route = _route(entries=[("", a, 70, None), ("", b, 30, None)])
    campaign = _routed_campaign(route, [f"+4479110{i:05d}" for i in range(1000)])
    _drain(campaign)
    counts = Counter(Message.objects.filter(campaign=campaign).values_list("account_id", flat=True))
    assert counts == {a.id: 700, b.id: 300}
    first = list(Message.objects.filter(campaign=campaign).order_by("id").values_list("account_id", flat=True)[:20])
    assert a.id in first and b.id in first  # smooth: not 70 in a row, then 30


def test_least_cost_takes_the_cheapest_account_by_entry_or_price_table() -> None:
    dear, cheap_by_table, cheap_entry = _big(), _big(), _big()
    SegmentPrice.objects.create(account=dear, country="GB", price=Decimal("0.05"))
    SegmentPrice.objects.create(account=cheap_by_table, country="GB", price=Decimal("0.01"))
    SegmentPrice.objects.create(account=cheap_by_table, country="", price=Decimal("0.09"))
    route = _route(
        RouteStrategy.LEAST_COST,
        entries=[
            ("+44", dear, 1, None),
            ("+44", cheap_by_table, 1, None),
            ("", cheap_by_table, 1, None),
            ("", cheap_entry, 1, Decimal("0.02")),
        ],
    )
    campaign = _routed_campaign(route, ["+447911000001", "+441632960002", "+33612345678"])
    _drain(campaign)
    got = dict(Message.objects.filter(campaign=campaign).values_list("phone", "account_id"))
    assert got == {
        "+447911000001": cheap_by_table.id,
        "+441632960002": cheap_by_table.id,
        "+33612345678": cheap_entry.id,
    }


def test_each_account_claims_within_its_own_budget(settings) -> None:
    settings.DISPATCH_HORIZON_S = 2.0
    small, large = AccountFactory(binds=1, rate_per_bind=10), AccountFactory(binds=1, rate_per_bind=100)
    route = _route(entries=[("", small, 50, None), ("", large, 50, None)])
    campaign = _routed_campaign(route, [f"+4479110{i:05d}" for i in range(600)])
    tick(enqueue=lambda b: None)
    queued = Counter(Message.objects.filter(campaign=campaign, status=S.QUEUED).values_list("account_id", flat=True))
    # 1 bind × 10/s × 2 s for one, 1 × 100/s × 2 s for the other: each counted on its own.
    assert queued == {small.id: 20, large.id: 200}
    tick(enqueue=lambda b: None)  # backpressure per account: nothing more while those are queued
    assert Message.objects.filter(campaign=campaign, status=S.QUEUED).count() == 220


def test_a_stopped_account_gets_nothing_and_its_share_goes_to_the_next() -> None:
    a, b = _big(smpp_stopped_reason="bind refused: invalid password"), _big()
    route = _route(entries=[("", a, 70, None), ("", b, 30, None)])
    campaign = _routed_campaign(route, [f"+4479110{i:05d}" for i in range(100)])
    _drain(campaign)
    assert set(Message.objects.filter(campaign=campaign).values_list("account_id", flat=True)) == {b.id}


def test_queued_messages_of_an_account_that_cannot_send_move_to_the_next(settings) -> None:
    a, b = _big(), _big()
    route = _route(entries=[("", a, 50, None), ("", b, 50, None)])
    campaign = _routed_campaign(route, [f"+4479110{i:05d}" for i in range(100)])
    tick(enqueue=lambda batch: None)
    on_a = set(Message.objects.filter(campaign=campaign, account=a, status=S.QUEUED).values_list("id", flat=True))
    assert len(on_a) == 50
    type(a).objects.filter(id=a.id).update(smpp_stopped_reason="bind refused: invalid password")
    Message.objects.filter(campaign=campaign, account=b).update(status=S.ACCEPTED)
    tick(enqueue=lambda batch: None)
    moved = Message.objects.filter(id__in=on_a)
    assert set(moved.values_list("account_id", flat=True)) == {b.id}
    assert set(moved.values_list("status", flat=True)) == {S.QUEUED}
    assert all("invalid password" in note for note in moved.values_list("route_note", flat=True))


def test_numbers_no_entry_is_for_are_suppressed_at_start_with_the_reason() -> None:
    uk = _big()
    route = _route(entries=[("+44", uk, 1, None)])
    campaign = _routed_campaign(route, ["+447911000001", "+33612345678"])
    _drain(campaign)
    got = dict(Message.objects.filter(campaign=campaign).values_list("phone", "status"))
    assert got == {"+447911000001": S.ACCEPTED, "+33612345678": S.SUPPRESSED}
    assert "route" in Message.objects.get(phone="+33612345678", campaign=campaign).reason


def test_least_cost_overflows_to_the_next_cheapest_once_the_cheapest_budget_is_spent(settings) -> None:
    settings.DISPATCH_HORIZON_S = 2.0
    cheap = AccountFactory(name="a-cheap", binds=1, rate_per_bind=10)  # 20 a tick; claimed first (by name)
    dear = AccountFactory(name="b-dear", binds=1, rate_per_bind=100)
    route = _route(RouteStrategy.LEAST_COST, entries=[("", cheap, 1, Decimal("0.01")), ("", dear, 1, Decimal("0.05"))])
    campaign = _routed_campaign(route, [f"+4479110{i:05d}" for i in range(100)])
    tick(enqueue=lambda b: None)
    queued = Counter(Message.objects.filter(campaign=campaign, status=S.QUEUED).values_list("account_id", flat=True))
    assert queued == {cheap.id: 20, dear.id: 80}  # the cheapest to its budget, the rest overflows


@pytest.mark.parametrize("total", [1, 2, 3, 10, 100, 7, 64, 1000, 999983])
def test_the_spread_is_exact_per_total_and_interleaves_from_any_start(total: int) -> None:
    from campaigns.services.routing import spread

    k = spread(total)
    assert sorted((i * k) % total for i in range(total)) == list(range(total))  # every residue once
    if total == 100:  # 70/30: from any first id, no account gets more than a few in a row
        for start in range(200):
            picks = ["a" if ((start + i) * k) % 100 < 70 else "b" for i in range(200)]
            assert "aaaaa" not in "".join(picks) and "bb" not in "".join(picks), start
