"""DEBUG error pages never show a password: not in settings, the environment or a traceback.

Before the fix, with ``DEBUG=true`` the technical 400 page listed ``DATABASE_URL`` and
``CELERY_BROKER_URL`` with their passwords (Django hides settings by name only).
"""

from __future__ import annotations

import sys

import pytest
from django.test import Client, RequestFactory, override_settings
from django.views.debug import ExceptionReporter, get_default_exception_reporter_filter

from config.error_reports import SecretMaskingFilter

SECRETS = ("dbpw-hunter2", "mqpw-rabbit", "redispw-9", "tok-abc-123", "auth-pw-7", "plain-key-5")
URLS = {
    "DATABASE_URL": "postgres://app:dbpw-hunter2@db:5432/campaigns",
    "CELERY_BROKER_URL": "amqp://rabbit:mqpw-rabbit@mq:5672/prod",
    "REDIS_URL": "redis://:redispw-9@cache:6379/0",
}
MASKED = (
    "postgres://app:********************@db:5432/campaigns",
    "amqp://rabbit:********************@mq:5672/prod",
    "redis://:********************@cache:6379/0",
)


def _assert_clean(page: str) -> None:
    leaked = [secret for secret in SECRETS if secret in page]
    assert not leaked, leaked


@pytest.mark.django_db
@override_settings(DEBUG=True, METRICS_TOKEN="tok-abc-123", **URLS)
def test_the_debug_400_page_masks_urls_settings_and_environment(admin_user) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    environment = {**URLS, "MM4_RECEIVER_AUTH": "provider:auth-pw-7", "SOME_API_KEY": "plain-key-5"}
    response = client.get("/admin/campaigns/account/", {"q": "\x00"}, **environment)
    assert response.status_code == 400
    page = response.content.decode()
    assert "DATABASE_URL" in page and "CELERY_BROKER_URL" in page  # the technical page, with its settings
    _assert_clean(page)
    for masked in MASKED:
        assert masked.replace("'", "&#x27;") in page


def _crash() -> None:
    broker = URLS["CELERY_BROKER_URL"]  # noqa: F841 - a local the traceback shows
    config = {"url": URLS["DATABASE_URL"], "hosts": ["db"]}  # noqa: F841
    api_token = "-".join(("tok", "abc", "123"))  # noqa: F841 - built, so the source lines shown do not hold it
    raise RuntimeError("boom")


@override_settings(DEBUG=True, **URLS)
def test_a_500_traceback_masks_its_local_variables() -> None:
    request = RequestFactory().get("/x", **URLS)
    try:
        _crash()
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
    for page in (reporter.get_traceback_html(), reporter.get_traceback_text()):
        _assert_clean(page)
        assert "amqp://rabbit:********************@mq:5672/prod" in page.replace("&#x27;", "'")


@override_settings(DEBUG=True)
def test_sensitive_post_parameters_are_hidden_with_debug_on() -> None:
    request = RequestFactory().post("/admin/login/", {"username": "ann", "password": "auth-pw-7"})
    request.sensitive_post_parameters = ["password"]
    cleansed = get_default_exception_reporter_filter().get_post_parameters(request)
    assert cleansed["password"] != "auth-pw-7" and cleansed["username"] == "ann"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgres://u:p@h/db", "postgres://u:********************@h/db"),
        ("amqp://guest:guest@127.0.0.1:5672//", "amqp://guest:********************@127.0.0.1:5672//"),
        ("redis://:pw@h:6379/0", "redis://:********************@h:6379/0"),
        (
            "see https://u:p%40ss@h/x and smtp://a:b@c",
            "see https://u:********************@h/x and smtp://a:********************@c",
        ),
        ("postgres://postgres@127.0.0.1:5432/h5", "postgres://postgres@127.0.0.1:5432/h5"),
        ("http://example.com:8000/path?a=b", "http://example.com:8000/path?a=b"),
        ("user:password", "user:password"),
    ],
)
def test_url_password_masking(text: str, masked: str) -> None:
    assert SecretMaskingFilter().mask(text) == masked
