"""The import's fast path for numbers agrees with normalise_phone wherever it answers."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.services.contacts_import import check_phone, fast_e164
from campaigns.services.phones import InvalidPhoneNumber, normalise_phone

CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def _slow(raw: str) -> str | None:
    try:
        return normalise_phone(raw)
    except InvalidPhoneNumber:
        return None


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(st.sampled_from(CODES), st.text("0123456789", min_size=3, max_size=13))
def test_fast_path_never_disagrees(code: int, digits: str) -> None:
    raw = f"+{code}{digits}"
    fast = fast_e164(raw)
    if fast is not None:
        assert fast == _slow(raw)


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_example_numbers_of_every_region_and_type(region: str) -> None:
    for kind in range(11):
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None:
            continue
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        for variant in (e164, e164[:-1] + str((int(e164[-1]) + 3) % 10), e164 + "1", e164[:-2]):
            fast = fast_e164(variant)
            if fast is not None:
                assert fast == _slow(variant), variant


def test_formats_the_fast_path_takes() -> None:
    assert fast_e164("+447911100123") == "+447911100123"
    assert fast_e164("+44 7911 100-123") == "+447911100123"
    assert fast_e164("00447911100123") == "+447911100123"
    assert fast_e164("07911100123") is None  # national: the slow path, with a region


def test_check_phone_reasons() -> None:
    assert check_phone("  ") == (None, "missing phone")
    assert check_phone("+447911100123") == ("+447911100123", "")
    phone, reason = check_phone("+4477")
    assert phone is None and reason.startswith("invalid number: ")
