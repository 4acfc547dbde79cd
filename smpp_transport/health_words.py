"""Bind health in words and local time, for the bind-health page and the account page.

The heartbeat rows keep counters as JSON and the last enquire_link answer as an epoch;
people read "bound, 1,234 submits, last keep-alive answer 12:03:04 CET (5 s ago)".
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from smpp_transport.models import BindStatus

STATES = {
    "bound": "bound and sending",
    "connecting": "connecting",
    "backoff": "waiting to reconnect after a lost connection",
    "stopped": "stopped",
    "auth_failed": "stopped: the SMSC refused the login (fix the password, then clear the stop reason)",
    "gone": "gone: its process has not reported for 30 s",
}
MODES = {"trx": "transceiver", "tx": "transmitter", "rx": "receiver"}


def local_time(moment: datetime | float | None) -> str:
    """A datetime or epoch in the site's time zone, with its age ("12:03:04 CET, 5 s ago")."""
    if moment is None:
        return "never"
    if isinstance(moment, (int, float)):
        moment = datetime.fromtimestamp(float(moment), tz=UTC)
    local = timezone.localtime(moment)
    age = max(0, round((timezone.now() - moment).total_seconds()))
    ago = f"{age} s ago" if age < 120 else f"{age // 60} min ago" if age < 7200 else f"{age // 3600} h ago"
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({ago})"


def describe(status: BindStatus) -> str:
    """One sentence: state, where, counters, keep-alive and the last error."""
    stats = status.stats or {}
    words = [
        f"{MODES.get(status.mode, status.mode).capitalize()} bind on {status.host} (pid {status.pid}) "
        f"to {status.smsc}: {STATES.get(status.health, status.health)}",
        f"{stats.get('submits', 0):,} submits, {stats.get('throttles', 0):,} throttled, "
        f"{stats.get('reconnects', 0):,} reconnects, {stats.get('delivers', 0):,} receipts and replies received",
        f"last keep-alive answer {local_time(stats.get('last_enquire_link_resp_at'))}",
        f"reported {local_time(status.updated_at)}",
    ]
    if status.last_error:
        words.append(f"last error: {status.last_error}")
    return "; ".join(words) + "."


def bind_health_lines(system_id: str) -> list[str]:
    """Every bind process of the account, in words (the account page's "Bind health")."""
    return [describe(s) for s in BindStatus.objects.filter(system_id=system_id).order_by("name")]
