"""API throttles (DRF): per user (token or session) and per client address (anonymous), with
rates from API_THROTTLE_USER / API_THROTTLE_ANON.

The defaults are generous so the suite, the benches and real integrations never meet them
by accident; the tests here set them low to prove the throttles are on. DRF reads the
rates once into ``SimpleRateThrottle.THROTTLE_RATES``, so that is where a test lowers them
(the environment path is tested in a subprocess in test_deploy_settings.py).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.api.factories import TokenFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch):
    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "3/minute"})
    yield
    cache.clear()


def token_client(role: str = "marketer", **extra: str) -> APIClient:
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Token {TokenFactory(user=UserFactory(role=role)).key}")
    return client


def test_the_defaults_are_generous_and_both_throttles_are_on() -> None:
    rest = settings.REST_FRAMEWORK
    assert rest["DEFAULT_THROTTLE_RATES"] == {"anon": "100/minute", "user": "3000/minute"}
    assert rest["DEFAULT_THROTTLE_CLASSES"] == [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ]
    assert rest["NUM_PROXIES"] == 0  # no proxy trusted unless TRUSTED_PROXY_COUNT says so


def test_a_token_user_over_the_rate_gets_429_in_the_error_envelope(low_rates) -> None:
    client = token_client()
    assert [client.get("/api/v1/campaigns/").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/lists/")  # every endpoint counts against the same user
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    [error] = refused.json()["errors"]
    assert error["code"] == "throttled" and "throttled" in error["message"].lower()
    assert token_client().get("/api/v1/campaigns/").status_code == 200  # another user has their own count


def test_anonymous_requests_are_throttled_per_address(low_rates) -> None:
    here, there = APIClient(REMOTE_ADDR="203.0.113.9"), APIClient(REMOTE_ADDR="198.51.100.9")
    assert [here.get("/api/schema/").status_code for _ in range(2)] == [200, 200]
    assert here.get("/api/schema/").status_code == 429
    # A forged X-Forwarded-For is no new address when no proxy is trusted.
    assert here.get("/api/schema/", HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 429
    assert there.get("/api/schema/").status_code == 200


def test_behind_a_trusted_proxy_the_forwarded_address_counts(low_rates, settings) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")
    for client_ip in ("203.0.113.1", "203.0.113.2"):
        statuses = [
            proxy.get("/api/schema/", HTTP_X_FORWARDED_FOR=f"6.6.6.6, {client_ip}").status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]  # the proxy's own entry (the last) names the client
