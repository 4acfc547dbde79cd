"""API tokens are hashed at rest (django-rest-knox) and may expire.

Before the fix DRF's ``authtoken_token`` table held every token in clear (it was the
primary key), so a copy of the database let anyone call the API as anyone. Now the table
keeps knox's SHA-512 digest and the token's first 15 characters; the token itself is shown
once, when it is made. Existing DRF tokens are hashed by migration 0015 and keep working.
"""

from __future__ import annotations

import importlib
import io
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import ApiToken
from campaigns.services.api_tokens import create_api_token
from tests.api.factories import UserFactory

pytestmark = pytest.mark.django_db


def api_status(token: str | bytes) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}" if isinstance(token, str) else b"Token " + token)
    return client.get("/api/v1/campaigns/").status_code


def stored_rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")
        return cursor.fetchall()


def test_create_api_token_prints_a_token_that_works_and_is_not_stored() -> None:
    UserFactory(username="alice", role="marketer")
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "alice", "--label", "CRM sync", stdout=out, stderr=err)
    token = out.getvalue().strip()
    assert len(token) == 64 and "copy it now, it is not shown again" in err.getvalue()
    assert "lasts until revoked" in err.getvalue()  # API_TOKEN_TTL_S defaults to 0
    assert api_status(token) == 200
    (row,) = stored_rows()
    assert not [value for value in row if isinstance(value, str) and token in value]
    made = ApiToken.objects.get()
    assert made.label == "CRM sync" and made.expiry is None and token not in str(made) + repr(made)


def test_a_ttl_makes_tokens_expire(settings) -> None:
    user = UserFactory(role="viewer")
    settings.API_TOKEN_TTL_S = 3600
    made, token = create_api_token(user=user)
    assert made.expiry is not None and abs(made.expiry - timezone.now() - timedelta(hours=1)) < timedelta(minutes=1)
    assert api_status(token) == 200
    ApiToken.objects.filter(pk=made.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert api_status(token) == 401
    assert not ApiToken.objects.exists()  # knox deletes an expired token when it is used
    out = io.StringIO()
    call_command("create_api_token", user.username, "--ttl-s", "0", stdout=out, stderr=io.StringIO())
    assert ApiToken.objects.get().expiry is None


def test_create_api_token_errors_are_clear() -> None:
    with pytest.raises(CommandError, match="No user 'nobody': create it first"):
        call_command("create_api_token", "nobody", stdout=io.StringIO())
    UserFactory(username="bob")
    with pytest.raises(CommandError, match="--ttl-s is a number of seconds"):
        call_command("create_api_token", "bob", "--ttl-s", "-5", stdout=io.StringIO())


def test_revoke_others_rotates() -> None:
    user = UserFactory(username="carol", role="viewer")
    _, old = create_api_token(user=user)
    out = io.StringIO()
    call_command("create_api_token", "carol", "--revoke-others", stdout=out, stderr=io.StringIO())
    assert api_status(old) == 401 and api_status(out.getvalue().strip()) == 200


@pytest.mark.parametrize("bad", [b"\xff\xfe-not-utf8", b"abc\x00def", b"x" * 10_000])
def test_a_token_header_the_database_cannot_take_is_a_401(bad: bytes) -> None:
    assert api_status(bad) == 401


def test_migration_0015_hashes_drf_tokens_which_keep_working() -> None:
    migration = importlib.import_module("campaigns.migrations.0015_hash_api_tokens")
    user = UserFactory(role="viewer")
    drf_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's format: 40 hex characters
    created = timezone.now() - timedelta(days=30)
    with connection.cursor() as cursor:  # DRF's table as it was (rolled back with the test)
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz NOT NULL, "
            "user_id integer NOT NULL UNIQUE)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [drf_key, created, user.pk])
    with connection.schema_editor() as editor:
        migration.hash_drf_tokens(django_apps, editor)
    assert api_status(drf_key) == 200
    made = ApiToken.objects.get()
    assert (made.user, made.created, made.expiry, made.label) == (user, created, None, "from DRF")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)  # no clear copy left
    assert not [value for row in stored_rows() for value in row if value == drf_key]


def test_the_admin_makes_a_token_and_shows_it_once(admin_client: Client) -> None:
    user = User.objects.create_user("dave")
    response = admin_client.post(
        reverse("admin:campaigns_apitoken_add"), {"user": user.pk, "label": "bench", "expiry": ""}, follow=True
    )
    (message,) = [str(m) for m in response.context["messages"] if "API token (" in str(m)]
    token = message.rsplit(" ", 1)[-1]
    assert message.startswith("The new API token (copy it now, it is not shown again): ") and len(token) == 64
    assert api_status(token) == 403  # authenticated (a user without a role may see nothing)
    made = ApiToken.objects.get()
    assert made.user == user and made.label == "bench"
    page = admin_client.get(reverse("admin:campaigns_apitoken_change", args=[made.pk])).content.decode()
    assert token not in page and made.digest not in page and made.token_key not in page
