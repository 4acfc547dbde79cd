"""What a provider sends, made storable (campaigns/services/provider_fields.py): golden values
and properties; pure functions, no database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import PROVIDER_ID_MAX_LENGTH
from campaigns.services.provider_fields import INT_MAX, INT_MIN, provider_id_problem, storable_int, storable_text


def test_golden_values() -> None:
    assert storable_text("a\x00b\x00") == "ab"
    assert storable_text(None) == ""
    assert storable_text("abcdef", 3) == "abc"
    assert storable_int(0xFFFFFFFF) is None  # an unsigned command_status no int column holds
    assert storable_int(0x80000000) is None
    assert storable_int(0x7FFFFFFF) == 0x7FFFFFFF
    assert storable_int(-5) == -5
    assert storable_int(None) is None
    assert provider_id_problem(None) is None
    assert provider_id_problem("a" * 64) is None  # SMPP 3.4's longest
    assert provider_id_problem("a" * PROVIDER_ID_MAX_LENGTH) is None
    problem = provider_id_problem("f" * (PROVIDER_ID_MAX_LENGTH + 1))
    assert problem and "too long" in problem and str(PROVIDER_ID_MAX_LENGTH + 1) in problem


@given(st.text(), st.integers(min_value=0, max_value=300))
def test_storable_text_has_no_nul_and_fits(value: str, limit: int) -> None:
    out = storable_text(value, limit)
    assert "\x00" not in out and len(out) <= limit
    assert value.replace("\x00", "").startswith(out)


@given(st.integers())
def test_storable_int_keeps_exactly_what_an_integer_column_holds(value: int) -> None:
    assert storable_int(value) == (value if INT_MIN <= value <= INT_MAX else None)
