"""Fixtures for the admin tests: one logged-in client per role, and a clean report cache."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client

from campaigns.roles import MARKETER, OPERATOR, VIEWER, sync_roles


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _user(role: str) -> User:
    sync_roles()  # a transactional test elsewhere may have flushed the groups the migration made
    user = User.objects.create_user(f"{role}-user", password="pw-for-tests", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def _client(role: str) -> Client:
    client = Client()
    client.force_login(_user(role))
    return client


@pytest.fixture
def operator_client(db) -> Client:
    return _client(OPERATOR)


@pytest.fixture
def marketer_client(db) -> Client:
    return _client(MARKETER)


@pytest.fixture
def viewer_client(db) -> Client:
    return _client(VIEWER)
