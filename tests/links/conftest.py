"""Clients for the click figures: the stats API as a viewer, the report page as a viewer."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from campaigns.roles import VIEWER, sync_roles
from tests.api.factories import TokenFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_viewer(db) -> APIClient:
    client = APIClient()
    token = TokenFactory(user=UserFactory(role=VIEWER))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def admin_viewer(db) -> Client:
    sync_roles()
    user = User.objects.create_user("viewer-user", password="pw-for-tests", is_staff=True)
    user.groups.add(Group.objects.get(name=VIEWER))
    client = Client()
    client.force_login(user)
    return client
