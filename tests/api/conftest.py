"""API test fixtures: a token-authenticated client per role."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from campaigns.models import Account
from tests.api.factories import TokenFactory, UserFactory
from tests.factories import AccountFactory

ClientFor = Callable[[str | None], APIClient]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Uploaded media and import files go to a temporary folder, not var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def client_for(db: None) -> ClientFor:
    """``client_for("marketer")``: an APIClient with the token of a new user in that role."""

    def make(role: str | None) -> APIClient:
        client = APIClient()
        token = TokenFactory(user=UserFactory(role=role))
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        client.user = token.user  # type: ignore[attr-defined]
        return client

    return make


@pytest.fixture
def operator(client_for: ClientFor) -> APIClient:
    return client_for("operator")


@pytest.fixture
def marketer(client_for: ClientFor) -> APIClient:
    return client_for("marketer")


@pytest.fixture
def viewer(client_for: ClientFor) -> APIClient:
    return client_for("viewer")


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def account(db: None) -> Account:
    return AccountFactory(mm4_host="mm4.example.net")
