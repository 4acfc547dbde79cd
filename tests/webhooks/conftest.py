"""Webhook tests: local receivers are allowed, and "is any endpoint active?" is never cached."""

from __future__ import annotations

import pytest

from campaigns.services.webhook_outbox import forget_endpoints


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True
    settings.WEBHOOKS_ENDPOINTS_CACHE_S = 0
    forget_endpoints()
    yield
    forget_endpoints()
