"""Status ranks: forward only, duplicates harmless, roll-up from parts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.services.status import advance_parts, roll_up_messages
from campaigns.statuses import FINAL_STATUSES, RANK, MessageStatus, can_advance, rollup
from tests.factories import MessageFactory, MessagePartFactory

S = MessageStatus
statuses = st.sampled_from(list(RANK))


def test_late_accepted_never_overwrites_delivered() -> None:
    assert not can_advance(S.DELIVERED, S.ACCEPTED)
    assert can_advance(S.ACCEPTED, S.DELIVERED)
    assert can_advance(S.UNKNOWN, S.DELIVERED)


def test_final_statuses_do_not_replace_each_other() -> None:
    for a in FINAL_STATUSES:
        for b in FINAL_STATUSES:
            assert not can_advance(a, b)


def test_unknown_status_string_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a message status"):
        can_advance("bogus", S.DELIVERED)


@given(st.lists(statuses, min_size=1, max_size=20))
def test_applying_any_sequence_ends_at_the_first_highest_rank(sequence: list[str]) -> None:
    current = S.PENDING
    for status in sequence:
        if can_advance(current, status):
            current = status
    best = max(RANK[s] for s in [S.PENDING, *sequence])
    assert RANK[current] == best
    # The first status reaching that rank wins; later equal-rank ones are ignored.
    if best > 0:
        assert current == next(s for s in sequence if RANK[s] == best)


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([S.DELIVERED, S.DELIVERED], S.DELIVERED),
        ([S.DELIVERED, S.ACCEPTED], S.ACCEPTED),
        ([S.DELIVERED, S.UNDELIVERED], S.UNDELIVERED),
        ([S.ACCEPTED, S.FAILED], S.FAILED),
        ([S.EXPIRED, S.REJECTED], S.REJECTED),
        ([S.DELIVERED, S.UNKNOWN], S.UNKNOWN),
        ([S.PENDING, S.ACCEPTED], S.PENDING),
        ([S.CANCELLED, S.CANCELLED], S.CANCELLED),
    ],
)
def test_rollup(parts: list[str], expected: str) -> None:
    assert rollup(parts) == expected


@pytest.mark.django_db
def test_advance_is_forward_only_and_duplicates_change_nothing() -> None:
    part = MessagePartFactory(status=S.ACCEPTED, provider_message_id="ab")
    assert advance_parts([part.id], S.DELIVERED) == 1
    assert advance_parts([part.id], S.DELIVERED) == 0  # duplicate receipt
    assert advance_parts([part.id], S.ACCEPTED) == 0  # late "accepted"
    assert advance_parts([part.id], S.UNDELIVERED) == 0  # a second, different final
    part.refresh_from_db()
    assert part.status == S.DELIVERED
    assert part.done_at is not None


@pytest.mark.django_db
def test_message_rolls_up_from_its_parts() -> None:
    message = MessageFactory(status=S.ACCEPTED, segments=2)
    first = MessagePartFactory(message=message, index=1, status=S.ACCEPTED)
    second = MessagePartFactory(message=message, index=2, status=S.ACCEPTED)
    advance_parts([first.id], S.DELIVERED)
    roll_up_messages([message.id])
    message.refresh_from_db()
    assert message.status == S.ACCEPTED
    advance_parts([second.id], S.DELIVERED)
    roll_up_messages([message.id])
    message.refresh_from_db()
    assert message.status == S.DELIVERED


@given(st.sampled_from(list(RANK)))
def test_a_lone_part_rolls_up_to_its_own_status_like_two_identical_parts(status: str) -> None:
    """The one-part fast path agrees with the general rules."""
    assert rollup([status]) == rollup([status, status]) == status
