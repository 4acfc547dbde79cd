"""Dealing an uncapped campaign's share to the account's binds: whole rounds of equal
batches, and the last messages in smaller ones, so that no bind ends a batch behind."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Message
from campaigns.services import campaign_actions as actions
from campaigns.services.dispatch import tick
from campaigns.services.shares import deal
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, RecipientListFactory


@pytest.mark.parametrize(
    ("share", "size", "binds", "due", "in_hand", "expected"),
    [
        (2000, 50, 20, 20000, 500, (2000, 50)),  # two whole rounds
        (2000, 50, 20, 20000, 0, (1000, 50)),  # idle binds: one round first
        (1025, 50, 20, 20000, 975, (1000, 50)),  # a part-round waits for the next tick
        (990, 50, 20, 20000, 1010, (0, 50)),  # less than a round, a round in hand: it waits
        (990, 50, 20, 20000, 10, (980, 49)),  # less than a round, the binds low: smaller batches
        (130, 50, 4, 130, 0, (130, 33)),  # the last messages: 33 + 33 + 33 + 31
        (1500, 50, 20, 1300, 500, (1300, 33)),  # the last 1,300: two rounds of 33
        (1025, 50, 1, 20000, 975, (1000, 50)),  # one bind: whole batches
        (5, 50, 20, 10, 0, (5, 50)),  # fewer than one each: one small batch
        (120, 500, 2, 200, 0, (120, 60)),  # an unpaced account's two binds
        (0, 50, 4, 0, 0, (0, 50)),
    ],
)
def test_deal_golden(share, size, binds, due, in_hand, expected) -> None:
    assert deal(share, size, binds, due=due, in_hand=in_hand) == expected


def test_unpaced_binds_get_their_whole_share_even_when_idle() -> None:
    # No provider cap: 2 binds assumed at 9,000/s for 2 s; a round (2 × 500) is milliseconds.
    assert deal(36000, 500, 2, due=100000, in_hand=0, paced=False) == (36000, 500)
    assert deal(36000, 500, 2, due=100000, in_hand=0) == (1000, 500)


@pytest.mark.django_db
def test_the_first_tick_of_an_unpaced_account_claims_its_whole_budget(settings) -> None:
    settings.DISPATCH_HORIZON_S = 2.0
    settings.DISPATCH_UNPACED_RATE_PER_BIND = 1000
    _campaign(AccountFactory(binds=2, rate_per_bind=0), 5000)
    # 2 binds × 1,000/s × 2 s = 4,000, in batches of 500 (an unpaced bind's), all at once.
    assert [len(b.message_ids) for b in tick(enqueue=lambda b: None)] == [500] * 8


def test_budget_other_campaigns_left_is_claimed_as_it_is() -> None:
    assert deal(1025, 50, 20, due=20000, whole=False, in_hand=975) == (1025, 50)


def _loads(messages: int, batch: int, binds: int) -> list[int]:
    """What each bind gets when batches of ``batch`` (the last one smaller) go to the binds in turn."""
    loads = [0] * binds
    for k, start in enumerate(range(0, messages, batch)):
        loads[k % binds] += min(batch, messages - start)
    return loads


@given(
    share=st.integers(0, 5000),
    size=st.integers(1, 500),
    binds=st.integers(1, 40),
    due=st.integers(0, 10000),
    whole=st.booleans(),
    in_hand=st.integers(0, 5000),
    paced=st.booleans(),
)
def test_deal_gives_the_binds_equal_work(share, size, binds, due, whole, in_hand, paced) -> None:
    messages, batch = deal(share, size, binds, due=due, whole=whole, in_hand=in_hand, paced=paced)
    assert 0 < batch <= size
    assert messages <= share
    one_round = size * binds
    if due <= share:  # the last round: everything, no bind more than a batch ahead
        assert messages == due
        loads = _loads(messages, batch, binds)
        assert max(loads) - min(loads) <= batch
        rounds = -(-due // one_round)  # no more rounds than batches of ``size`` need
        assert -(-messages // batch) <= rounds * binds
    elif not whole:
        assert messages == share
    elif share >= binds and not (share < one_round and in_hand >= one_round):
        assert messages > 0 and len(set(_loads(messages, batch, binds))) == 1  # every bind the same
        if in_hand == 0 and paced:
            assert messages <= one_round  # idle paced binds: one round first
        elif share >= one_round:
            assert messages > share - one_round  # no more than a round left for later
    elif share >= binds:
        assert messages == 0  # a part-round waits: the binds have a round in hand


def _campaign(account, n: int):
    lst = RecipientListFactory()
    ContactFactory.create_batch(n, recipient_list=lst)
    campaign = CampaignFactory(account=account, body="Hi")
    campaign.recipient_lists.add(lst)
    actions.send_now(campaign=campaign)
    return campaign


@pytest.mark.django_db
def test_the_tick_deals_whole_rounds_then_the_last_messages_evenly(settings) -> None:
    """4 binds × 50/s, a 2 s horizon: 400 in flight. 555 messages: idle binds get one
    round of 50 each, the next tick the second; with 25 answered, 25 free is less than a
    round and the binds have one in hand, so nothing; with 200 more answered, the last 155
    in 4 batches of 39 or so, not 50 + 50 + 50 + 5."""
    settings.DISPATCH_HORIZON_S = 2.0
    campaign = _campaign(AccountFactory(binds=4, rate_per_bind=50), 555)
    assert [len(b.message_ids) for b in tick(enqueue=lambda b: None)] == [50] * 4
    assert [len(b.message_ids) for b in tick(enqueue=lambda b: None)] == [50] * 4

    def answer(n: int) -> None:
        ids = Message.objects.filter(campaign=campaign, status=S.QUEUED).values_list("id", flat=True)[:n]
        Message.objects.filter(id__in=list(ids)).update(status=S.ACCEPTED)

    answer(25)
    assert tick(enqueue=lambda b: None) == []  # a part-round waits
    answer(200)
    assert [len(b.message_ids) for b in tick(enqueue=lambda b: None)] == [39, 39, 39, 38]
    assert not Message.objects.filter(campaign=campaign, status=S.PENDING).exists()


@pytest.mark.django_db
def test_less_than_a_round_goes_in_smaller_batches_when_the_binds_run_low(settings) -> None:
    """A 1.5 s horizon (300 in flight, a round is 200): with 120 in hand, the 180 free go
    as a round of 4 batches of 45, not one of 50 short of a bind nor nothing."""
    settings.DISPATCH_HORIZON_S = 1.5
    campaign = _campaign(AccountFactory(binds=4, rate_per_bind=50), 1000)

    def answer(n: int) -> None:
        ids = Message.objects.filter(campaign=campaign, status=S.QUEUED).values_list("id", flat=True)[:n]
        Message.objects.filter(id__in=list(ids)).update(status=S.ACCEPTED)

    assert [len(b.message_ids) for b in tick(enqueue=lambda b: None)] == [50] * 4  # 300 free: one round
    assert tick(enqueue=lambda b: None) == []  # 100 free, a round in hand: it waits
    answer(80)
    assert [len(b.message_ids) for b in tick(enqueue=lambda b: None)] == [45] * 4  # 180 free, 120 in hand
