"""Which SMPP accounts cannot send now, for routes: read from the binds' heartbeat rows.

An account cannot send when none of its binds has been bound for ``ROUTE_UNBOUND_S``
(a bind process that stopped publishing counts as unbound), or when every bind that is
bound has only been throttled for ``ROUTE_THROTTLED_S``. Registered with the domain at
start-up (``campaigns.services.routing.register_availability``): the domain imports no
transport. An account no bind process ever reported for is left alone (nothing is known).
"""

from __future__ import annotations

import time
from collections import defaultdict

from django.conf import settings

from smpp_transport.models import STALE_AFTER_S, BindStatus


def unavailable(system_ids: list[str]) -> dict[str, str]:
    """{system_id: why} for the accounts among ``system_ids`` that cannot send now."""
    now = time.time()
    rows = BindStatus.objects.filter(system_id__in=system_ids).exclude(mode="rx")
    by_account: dict[str, list[BindStatus]] = defaultdict(list)
    for row in rows:
        by_account[row.system_id].append(row)
    out: dict[str, str] = {}
    unbound_s, throttled_s = settings.ROUTE_UNBOUND_S, settings.ROUTE_THROTTLED_S
    for system_id, binds in by_account.items():
        bound, throttled = [], []
        for b in binds:
            fresh = b.updated_at.timestamp() > now - STALE_AFTER_S
            last_bound = b.stats.get("last_bound_at") or (b.started_at.timestamp() if fresh else None)
            if fresh and b.state == "bound" or (last_bound and last_bound > now - unbound_s):
                bound.append(b)
                since = b.stats.get("throttled_since")
                throttled.append(bool(since and since < now - throttled_s))
        if not bound:
            out[system_id] = f"no bound bind for {unbound_s:.0f} s"
        elif all(throttled):
            out[system_id] = f"every bind throttled for over {throttled_s:.0f} s"
    return out
