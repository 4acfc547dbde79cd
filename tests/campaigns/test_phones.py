"""E.164 normalisation with clear errors for bad numbers."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.services.phones import InvalidPhoneNumber, normalise_phone, phone_timezone


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+44 7911 123456", None, "+447911123456"),
        ("07911 123456", "GB", "+447911123456"),
        ("0044 7911 123456", "US", "+447911123456"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("+1-202-555-0143", "GB", "+12025550143"),
        ("  +49 151 23456789 ", None, "+4915123456789"),
    ],
)
def test_normalises_to_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalise_phone(raw, region=region) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("hello", "does not look like a phone number"),
        ("+999 1234567", "unknown country code"),
        ("+44 77", "too short"),
        ("+44 7911 123456 4567 8901", "too long"),
        ("+44 0000 000000", ""),
    ],
)
def test_bad_numbers_have_specific_reasons(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as info:
        normalise_phone(raw, region="GB")
    assert reason in info.value.reason
    assert info.value.field == "phone"
    assert repr(raw) in info.value.message


@given(st.sampled_from(["GB", "US", "DE", "FR", "IN", "BR", "NG"]))
def test_example_mobiles_round_trip(region: str) -> None:
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert normalise_phone(national, region=region) == e164
    assert normalise_phone(e164) == e164  # idempotent


def test_timezone_from_number_with_fallback() -> None:
    assert phone_timezone("+447911123456", fallback="UTC") in {"Europe/London", "Europe/Guernsey"}
    # The US spans several zones: use the campaign's.
    assert phone_timezone("+12025550143", fallback="America/Chicago") in {
        "America/New_York",
        "America/Chicago",
    }
