"""How the campaigns of one account share it: max-min fairness, in rates and in messages."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Message
from campaigns.services import campaign_actions as actions
from campaigns.services.dispatch import tick
from campaigns.services.shares import fair_shares, whole_shares
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, RecipientListFactory


@pytest.mark.parametrize(
    ("capacity", "demands", "expected"),
    [
        (100, {"a": 20, "b": 30, "u": None}, {"a": 20, "b": 30, "u": 50}),  # the account
        (100, {"a": 60, "b": 70}, {"a": 50, "b": 50}),  # both above an equal share
        (100, {"a": 20, "u": None, "v": None}, {"a": 20, "u": 40, "v": 40}),
        (100, {"a": 30, "b": 100}, {"a": 30, "b": 70}),  # a small cap is met in full
        (100, {"a": 20, "b": 30}, {"a": 20, "b": 30}),  # capacity left over: nobody exceeds a cap
        (10, {"u": None, "v": None, "w": None}, {"u": 10 / 3, "v": 10 / 3, "w": 10 / 3}),
        (0, {"a": 5, "u": None}, {"a": 0, "u": 0}),
        (50, {}, {}),
    ],
)
def test_fair_shares_golden(capacity, demands, expected) -> None:
    assert fair_shares(capacity, demands) == pytest.approx(expected)


demands_st = st.dictionaries(
    st.integers(0, 30), st.one_of(st.none(), st.floats(min_value=0, max_value=500)), max_size=12
)


@given(capacity=st.floats(min_value=0, max_value=1000), demands=demands_st)
def test_fair_shares_are_max_min_fair(capacity, demands) -> None:
    shares = fair_shares(capacity, demands)
    assert set(shares) == set(demands)
    total_demand = sum(math.inf if d is None else d for d in demands.values())
    assert sum(shares.values()) == pytest.approx(min(capacity, total_demand), abs=1e-6)  # work-conserving
    for k, share in shares.items():
        assert share >= 0 and (demands[k] is None or share <= demands[k] + 1e-9)
        for other in shares.values():
            if share < other - 1e-6:  # only a campaign held by its own cap gets less than another
                assert demands[k] is not None and share == pytest.approx(demands[k])


@given(
    capacity=st.integers(0, 2000),
    demands=st.dictionaries(st.integers(0, 30), st.one_of(st.none(), st.integers(0, 500)), max_size=12),
    rotate=st.integers(0, 100),
)
def test_whole_shares_round_without_losing_a_message(capacity, demands, rotate) -> None:
    whole = whole_shares(capacity, demands, rotate=rotate)
    exact = fair_shares(capacity, demands)
    total_demand = sum(math.inf if d is None else d for d in demands.values())
    assert sum(whole.values()) == min(capacity, total_demand)
    for k, n in whole.items():
        assert abs(n - exact[k]) < 1 + 1e-9 and (demands[k] is None or n <= demands[k])


def _campaign(account, n: int, **kw):
    lst = RecipientListFactory()
    for i in range(n):
        ContactFactory(recipient_list=lst, phone=f"+4479{lst.id % 100:02d}{i:06d}")
    campaign = CampaignFactory(account=account, body="Hi", **kw)
    campaign.recipient_lists.add(lst)
    actions.send_now(campaign=campaign)
    return campaign


def _answer(campaign, n: int) -> None:
    ids = list(Message.objects.filter(campaign=campaign, status=S.QUEUED).values_list("id", flat=True)[:n])
    Message.objects.filter(id__in=ids).update(status=S.ACCEPTED)


def _claimed(batches) -> dict[int, int]:
    ids = [i for b in batches for i in b.message_ids]
    by_campaign: dict[int, int] = {}
    for cid in Message.objects.filter(id__in=ids).values_list("campaign_id", flat=True):
        by_campaign[cid] = by_campaign.get(cid, 0) + 1
    return by_campaign


@pytest.mark.django_db
def test_the_tick_shares_an_account_by_the_rule(settings) -> None:
    """2 binds × 50/s, a 2 s horizon: caps 20 and 30 get 40 and 60 queued, the uncapped
    campaign the other 100; later ticks top each up by what it sent, a capped campaign
    once half its horizon is free (each of its batches holds a worker thread)."""
    settings.DISPATCH_HORIZON_S = 2.0
    account = AccountFactory(binds=2, rate_per_bind=50)
    a = _campaign(account, 300, send_rate=20)
    b = _campaign(account, 300, send_rate=30)
    u = _campaign(account, 300)
    assert _claimed(tick(enqueue=lambda b: None)) == {a.id: 40, b.id: 60, u.id: 100}
    _answer(a, 10)
    _answer(u, 50)
    assert _claimed(tick(enqueue=lambda b: None)) == {u.id: 60}  # a's 10 go to u for now
    _answer(a, 10)
    _answer(u, 60)
    assert _claimed(tick(enqueue=lambda b: None)) == {a.id: 20, u.id: 50}


@pytest.mark.django_db
def test_what_one_campaign_cannot_use_goes_to_the_others_in_the_same_tick(settings) -> None:
    settings.DISPATCH_HORIZON_S = 2.0
    account = AccountFactory(binds=2, rate_per_bind=50)
    waiting = _campaign(account, 300)
    Message.objects.filter(campaign=waiting).update(not_before=timezone.now() + timedelta(hours=1))
    few = _campaign(account, 15)
    busy = _campaign(account, 500)
    capped = _campaign(account, 500, send_rate=25)
    # Four campaigns, 200 to share: the waiting one (quiet hours) and the small one use
    # less than their 50, so the rest goes to the busy one; the cap stays a cap.
    assert _claimed(tick(enqueue=lambda b: None)) == {few.id: 15, busy.id: 135, capped.id: 50}
    assert waiting.id not in _claimed(tick(enqueue=lambda b: None))


@pytest.mark.django_db
def test_two_uncapped_campaigns_split_the_account_evenly(settings) -> None:
    settings.DISPATCH_HORIZON_S = 2.0
    account = AccountFactory(binds=1, rate_per_bind=50)
    first, second = _campaign(account, 200), _campaign(account, 200)
    assert _claimed(tick(enqueue=lambda b: None)) == {first.id: 50, second.id: 50}
