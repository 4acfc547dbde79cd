"""How the campaigns of one account share its capacity: max-min fairness.

The rule: every running campaign of an account is offered an equal share of what the
account can send; a capped campaign takes at most its cap, and what it leaves is split
equally among the others, again up to their caps. Uncapped campaigns have no cap, so they
split whatever the capped ones leave. With 100/s, caps 20 and 30 and one uncapped
campaign: 20, 30 and 50. Caps 60 and 70: 50 and 50. Two uncapped and a cap of 20: 20, 40
and 40.

Why not "in proportion to the caps": an uncapped campaign has no cap to weigh, a small
cap would be cut whenever the large ones overbook the account although it asks for less
than an equal share, and the answer would change when someone raises an unrelated cap.
Max-min fairness (water-filling) is the usual rule for sharing a link: nobody gets more
than an equal share unless the others cannot use theirs, and a cap below the equal share
is always met in full.

Within an uncapped campaign's share, :func:`deal` sizes the tick's batches so that the
account's binds get equal work (the broker deals them in turn).

The tick applies the rule to each account's budget of messages for the next horizon
(``campaigns.services.claims``); the builder's preview applies it to rates, to say how
fast a new campaign will go next to those already running.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import TypeVar

__all__ = ["fair_shares", "whole_shares"]

K = TypeVar("K", bound=Hashable)


def fair_shares(capacity: float, demands: Mapping[K, float | None]) -> dict[K, float]:
    """Max-min fair shares of ``capacity``; a demand of None is unbounded.

    The smallest demands are served first: each gets the lesser of its demand and an
    equal split of what is left, so the shares never exceed the capacity, no share
    exceeds its demand, and the capacity is used up unless every demand is met.
    """
    left = max(0.0, float(capacity))
    order = sorted(demands, key=lambda k: math.inf if demands[k] is None else max(0.0, demands[k]))
    shares: dict[K, float] = {}
    for i, key in enumerate(order):
        level = left / (len(order) - i)
        demand = demands[key]
        give = level if demand is None else min(max(0.0, demand), level)
        shares[key] = give
        left -= give
    return shares


def whole_shares(capacity: int, demands: Mapping[K, int | None], *, rotate: int = 0) -> dict[K, int]:
    """:func:`fair_shares` in whole units (messages): each share rounded down, the units
    left over handed one by one to those with room, starting at position ``rotate`` of
    ``demands`` (the tick rotates it, so no campaign is always last for the odd message)."""
    exact = fair_shares(capacity, demands)
    whole = {k: math.floor(v + 1e-9) for k, v in exact.items()}
    spare = max(0, capacity) - sum(whole.values())
    keys = list(demands)
    if not keys:
        return whole
    start = rotate % len(keys)
    for key in keys[start:] + keys[:start]:
        if spare <= 0:
            break
        demand = demands[key]
        if demand is None or whole[key] < demand:
            whole[key] += 1
            spare -= 1
    return whole


def deal(
    share: int, size: int, binds: int, *, due: int, whole: bool = True, in_hand: int = 0, paced: bool = True
) -> tuple[int, int]:
    """How much of an uncapped campaign's ``share`` to claim this tick, and in batches of
    what size, so that the account's ``binds`` get equal work: ``(messages, batch size)``.

    The broker deals an account's batches to its bind workers in turn, so a tick that
    claims whole rounds (``binds`` equal batches) gives every bind the same; a part-batch
    or part-round each tick (what is in flight is rarely a multiple) left some binds a
    batch behind the others, ending a second late. The rest of the share waits for the
    next tick. Less than a round waits whole while the binds have a round ``in_hand``
    (messages queued or being sent), else goes as a round of smaller batches (many small
    batches would fill the workers' prefetch, and the broker then skips the full ones: no
    longer in turn). Paced binds with nothing in hand get one round: each worker begins
    one batch, not two at once (20 workers beginning two each kept the last from sending
    for 0.3 s on 2 cores); the next round follows a tick later. Unpaced binds (no provider
    cap: a round is a few milliseconds of their sending) get their whole share. ``whole=False``: budget other
    campaigns left unused, claimed as it is. The campaign's last messages (``due`` within
    the share) are all claimed, in rounds of smaller batches: 130 over 4 binds at 50 are
    4 batches of 33, not 50 + 50 + 30 and an idle bind.
    """
    binds = max(1, binds)
    if due <= share:
        rounds = -(-due // (size * binds))
        return due, max(1, -(-due // (rounds * binds))) if due else size
    if not whole:
        return share, size
    one_round = size * binds
    if share >= one_round:
        return (one_round if paced and not in_hand else share - share % one_round), size
    if in_hand >= one_round:
        return 0, size
    per_bind = share // binds
    return (per_bind * binds, per_bind) if per_bind else (share, size)
