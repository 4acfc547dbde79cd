"""The builder's "estimated duration": how long sending will take at the real pace, and why.

The pace is what the tick and the send loop will actually do: the account's capacity
(binds × rate per bind, or the MM4 rate), shared by max-min fairness with the campaigns of
the account already running (``campaigns.services.shares``), and never above the
campaign's own cap. It counts segments, as the binds and the cap do. Quiet hours then
stretch the sending over as many days as their daily window needs (counted in the
recipients' own time, from the window's opening). The estimate says which of these limits
it, so a marketer knows what to change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import time

from campaigns.models import Account, Channel
from campaigns.selectors import running_send_rates
from campaigns.services.claims import capacity_per_s
from campaigns.services.shares import fair_shares

DAY_S = 86400.0


@dataclass(frozen=True)
class Estimate:
    seconds: float | None
    pace_per_s: float
    limited_by: str


def human_duration(seconds: float) -> str:
    if seconds < 60:
        return "under a minute"
    if seconds < 3600:
        minutes, secs = divmod(round(seconds / 10) * 10, 60)
        return f"about {minutes} min" + (f" {secs} s" if secs else "")
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"about {hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"about {days} day{'s' if days > 1 else ''} {hours} h"


def _rate(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".")


def _capacity_phrase(account: Account, channel: str, capacity: float) -> str:
    if channel == Channel.MMS:
        return f"the account's MMS rate of {_rate(capacity)}/s"
    if account.rate_per_bind == 0:
        return f"the account's capacity (unpaced binds, about {_rate(capacity)}/s)"
    binds = f"{account.binds} bind{'s' if account.binds != 1 else ''}"
    return f"the account's capacity of {_rate(capacity)} msg/s ({binds} × {account.rate_per_bind}/s)"


def parse_local_time(value: object) -> time | None:
    """A time of day as the builder's inputs send it ("09:00", "09:00:00"); None if blank or bad."""
    try:
        return time.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None


def sending_window_s(start: time | None, end: time | None) -> float:
    """Seconds a day the quiet hours leave for sending (a whole day without them)."""
    if start is None or end is None or start == end:
        return DAY_S
    begin = start.hour * 3600 + start.minute * 60 + start.second
    finish = end.hour * 3600 + end.minute * 60 + end.second
    return (finish - begin) % DAY_S


def estimate(
    *,
    total_segments: int,
    account: Account | None,
    channel: str,
    send_rate: int | None,
    quiet_hours: tuple[time | None, time | None] = (None, None),
) -> Estimate | None:
    """How long ``total_segments`` take to send, at what pace, limited by what (None: no account)."""
    if account is None:
        return None
    capacity = capacity_per_s(account, channel)
    running = running_send_rates(account=account, channel=channel)
    demands: dict[int, float | None] = {i: (float(rate) if rate else None) for i, rate in enumerate(running)}
    demands[-1] = float(send_rate) if send_rate else None  # this campaign
    pace = fair_shares(capacity, demands)[-1]
    if send_rate and send_rate <= pace + 1e-9:
        limited_by = f"the campaign's cap of {send_rate} msg/s"
    elif running:
        shared = f"{len(running)} running campaign{'s' if len(running) != 1 else ''}"
        limited_by = f"{_capacity_phrase(account, channel, capacity)}, shared with {shared}"
    else:
        limited_by = _capacity_phrase(account, channel, capacity)
    if pace <= 0:
        return Estimate(None, 0.0, limited_by)
    seconds = total_segments / pace
    window = sending_window_s(*quiet_hours)
    if window < DAY_S and seconds > window:
        days = math.ceil(seconds / window) - 1
        seconds = days * DAY_S + (seconds - days * window)
        start, end = quiet_hours
        limited_by = f"quiet hours ({start:%H:%M}–{end:%H:%M}, {human_hours(window)} of sending a day) and {limited_by}"
    return Estimate(seconds, pace, limited_by)


def human_hours(seconds: float) -> str:
    hours, rest = divmod(round(seconds / 60), 60)
    return f"{hours} h" + (f" {rest:02d} min" if rest else "")


def estimated_cost_text(*, account: Account | None, list_ids: list[int], per_message: float) -> str | None:
    """The builder's "Estimated cost": recipients per country × SMS per message × the
    account's price per segment (campaigns.selectors_cost); None when it has no prices."""
    from campaigns.selectors_cost import preview_cost

    cost = preview_cost(account_id=account.pk if account else None, list_ids=list_ids, per_message=per_message)
    return str(cost) if cost is not None else None
