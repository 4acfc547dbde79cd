"""The set-based SQL helpers: array literals, row sources and the ``__any`` lookup, against
the real database (PostgreSQL in CI; the array literal tests need it)."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import Message
from campaigns.services.bulk_sql import pg_array, values_source
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL array input")
_text = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)))


@postgres_only
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.none(), _text, st.sampled_from(["NULL", "{,}", '"', "\\", " a b "]))))
def test_text_array_literal_round_trips_any_string(values) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [pg_array(values, "text")])
        assert cursor.fetchone()[0] == values


@postgres_only
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))))
def test_bigint_array_literal_round_trips(values) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::bigint[]", [pg_array(values, "bigint")])
        assert cursor.fetchone()[0] == values


@pytest.mark.parametrize(
    "rows",
    [
        [(1, "a", 5), (2, "b", 5), (3, None, 5)],  # a constant column travels as one scalar
        [(7, "same", 1)],
        [(1, 'q"uote', 2), (2, "back\\slash", 3)],
    ],
)
def test_values_source_gives_back_the_rows(rows) -> None:
    source, params = values_source((("id", "bigint"), ("name", "text"), ("n", "int")), rows)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT v.id, v.name, v.n FROM {source} ORDER BY v.id", params)
        assert [tuple(r) for r in cursor.fetchall()] == rows


def test_any_lookup_matches_ids_and_foreign_keys() -> None:
    messages = MessageFactory.create_batch(3)
    wanted = [messages[0].id, messages[2].id]
    assert sorted(Message.objects.filter(id__any=wanted).values_list("id", flat=True)) == wanted
    campaign_id = messages[0].campaign_id
    assert Message.objects.filter(campaign_id__any=[campaign_id]).count() >= 1
    assert not Message.objects.filter(id__any=[]).exists()
