"""Admin login lockout (django-axes): AXES_FAILURE_LIMIT wrong passwords for one username from
one address lock that pair out, even for the right password, until the cool-off passes.

Through the real login form with Django's test client (REMOTE_ADDR per request), attempts
kept in the database like in production.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "right-Pa55word-here"


@pytest.fixture(autouse=True)
def fast_hashing(settings) -> None:
    """A cheap hasher: the lockout is under test, not PBKDF2's cost (dozens of attempts)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff() -> User:
    return User.objects.create_user("ops", password=PASSWORD, is_staff=True, is_superuser=True)


def attempt(password: str, *, username: str = "ops", ip: str = "203.0.113.7", **headers: str):
    return Client(REMOTE_ADDR=ip, **headers).post(LOGIN, {"username": username, "password": password})


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def fail_until_locked(**kwargs) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt("wrong", **kwargs).status_code == 200  # the form again, with its error
    locked = attempt("wrong", **kwargs)
    assert locked.status_code == 429 and b"Login locked" in locked.content


def test_the_defaults_are_five_failures_and_fifteen_minutes() -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_after_the_limit_even_the_right_password_is_refused(staff) -> None:
    fail_until_locked()
    refused = attempt(PASSWORD)
    assert refused.status_code == 429 and not logged_in(refused)
    assert b"Too many failed logins" in refused.content and b"ops" in refused.content


def test_the_lock_is_for_the_pair_of_username_and_address(staff) -> None:
    User.objects.create_user("ann", password=PASSWORD, is_staff=True)
    fail_until_locked()
    assert logged_in(attempt(PASSWORD, ip="198.51.100.2"))  # the same user from elsewhere
    assert logged_in(attempt(PASSWORD, username="ann"))  # another user from the same address


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(staff) -> None:
    """With no trusted proxy (TRUSTED_PROXY_COUNT=0) the address is the peer's, whatever the header says."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt("wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert attempt(PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200").status_code == 429


def test_a_right_password_before_the_limit_resets_the_count(staff) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt("wrong")
    assert logged_in(attempt(PASSWORD))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt("wrong")
    assert logged_in(attempt(PASSWORD))


def test_the_lock_lifts_after_the_cool_off_or_by_an_operator(staff) -> None:
    fail_until_locked()
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert logged_in(attempt(PASSWORD))
    fail_until_locked()
    call_command("axes_reset_username", "ops")
    assert logged_in(attempt(PASSWORD))


def test_the_demo_admin_still_logs_in(settings, tmp_path) -> None:
    """`make run`'s admin/admin: created directly by load_demo_data (no password validators at
    login), and one mistyped password is far from a lockout."""
    settings.MEDIA_ROOT = tmp_path  # the demo campaign's image
    call_command("load_demo_data", stdout=StringIO())
    assert attempt("admni", username="admin").status_code == 200
    assert logged_in(attempt("admin", username="admin"))
