"""Property-based tests against the live OpenAPI schema: no input yields a server error.

schemathesis loads /api/schema/ through the WSGI app (no server, no network), generates
requests for every operation (valid and invalid data), sends them with an operator's token
and runs its checks: no 5xx, responses match their documented status codes, content types
and schemas. Bounded (a few derandomized examples per operation) so it stays well under a
minute and gives the same verdict every run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from config.wsgi import application
from tests.api.factories import TokenFactory, UserFactory
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, MessageFactory, OptOutFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """Calls go straight into the WSGI app, whose request signals would close the test's
    connection (and its transaction); Django's own test client disconnects them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def operator_token(db: None, keep_test_connection: None) -> str:
    """An operator (every permission) and some data, so not every id is a 404."""
    account = AccountFactory(mm4_host="mm4.example.net")
    contact = ContactFactory()
    campaign = CampaignFactory(account=account)
    campaign.recipient_lists.add(contact.recipient_list)
    MessageFactory(campaign=campaign)
    OptOutFactory()
    return TokenFactory(user=UserFactory(role="operator")).key


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "8")),
    deadline=None,
    derandomize=os.environ.get("SCHEMATHESIS_DERANDOMIZE", "1") == "1",
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_yields_a_server_error(case: schemathesis.Case, operator_token: str) -> None:
    # positive_data_acceptance is left out: a schema cannot say which numbers are real phone
    # numbers or which ids exist, so schema-valid data is rightly refused with a 400 or 404.
    case.call_and_validate(
        headers={"Authorization": f"Token {operator_token}"},
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
