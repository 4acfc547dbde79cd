"""Counting arrivals in time windows, as a provider's rate check does."""

from __future__ import annotations


def max_in_window(times: list[float], window: float) -> int:
    """The most arrivals in any half-open window [t, t + window)."""
    times = sorted(times)
    best, j = 0, 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + window - 1e-9:
            j += 1
        best = max(best, j - i)
    return best
