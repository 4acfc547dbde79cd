"""Settings of the status webhooks (campaigns/services/webhook_*.py, docs/api.md "Webhooks"),
read from the environment once; ``config/settings.py`` imports them by name."""

from __future__ import annotations

import os

from config.env import env_bool, env_float

__all__ = [
    "WEBHOOKS_BEAT_ENTRY",
    "WEBHOOKS_QUEUE",
    "WEBHOOKS_ALLOW_PRIVATE",
    "WEBHOOKS_CONNECT_TIMEOUT_S",
    "WEBHOOKS_READ_TIMEOUT_S",
    "WEBHOOKS_RETRY_BASE_S",
    "WEBHOOKS_RETRY_MAX_S",
    "WEBHOOKS_RETRY_FOR_S",
    "WEBHOOKS_DISABLE_AFTER_S",
    "WEBHOOKS_ENDPOINTS_CACHE_S",
    "WEBHOOKS_BATCH",
    "WEBHOOKS_LEASE_S",
    "WEBHOOKS_PARALLEL",
]

# Deliveries go through a queue of their own, consumed by the "webhooks" worker (Procfile).
WEBHOOKS_QUEUE = os.environ.get("WEBHOOKS_QUEUE", "webhooks")
# Destinations on loopback, link-local or private networks are refused (SSRF), at save time
# and again at connect time, unless allowed: tests and `make run` (local receivers) do.
WEBHOOKS_ALLOW_PRIVATE = env_bool("WEBHOOKS_ALLOW_PRIVATE", False)
WEBHOOKS_CONNECT_TIMEOUT_S = env_float("WEBHOOKS_CONNECT_TIMEOUT_S", 3.0)
WEBHOOKS_READ_TIMEOUT_S = env_float("WEBHOOKS_READ_TIMEOUT_S", 10.0)
# Retries: exponential from the base (with jitter), each wait at most the max, for at most
# RETRY_FOR after the event; a Retry-After header (at most the max) wins over the backoff.
WEBHOOKS_RETRY_BASE_S = env_float("WEBHOOKS_RETRY_BASE_S", 10.0)
WEBHOOKS_RETRY_MAX_S = env_float("WEBHOOKS_RETRY_MAX_S", 3600.0)
WEBHOOKS_RETRY_FOR_S = env_float("WEBHOOKS_RETRY_FOR_S", 24 * 3600.0)
# An endpoint whose every attempt failed for this long is disabled, with the reason shown.
WEBHOOKS_DISABLE_AFTER_S = env_float("WEBHOOKS_DISABLE_AFTER_S", 3 * 24 * 3600.0)
# How long "is any endpoint active?" is cached per process (an idle platform writes nothing).
WEBHOOKS_ENDPOINTS_CACHE_S = env_float("WEBHOOKS_ENDPOINTS_CACHE_S", 5.0)
# Deliveries one worker takes at a time, and how long it holds them (a dead worker's return).
WEBHOOKS_BATCH = int(env_float("WEBHOOKS_BATCH", 200))
WEBHOOKS_LEASE_S = env_float("WEBHOOKS_LEASE_S", 120.0)
# Parallel POSTs per worker (threads; each endpoint keeps its connections alive).
WEBHOOKS_PARALLEL = int(env_float("WEBHOOKS_PARALLEL", 8))

# beat: retries come due on this clock; new events are kicked at once after their commit.
WEBHOOKS_BEAT_ENTRY = {
    "task": "campaigns.deliver_webhooks",
    "schedule": env_float("WEBHOOKS_BEAT_S", 2.0),
    "options": {"queue": WEBHOOKS_QUEUE, "expires": 10},
}
