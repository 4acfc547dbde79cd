"""Message id normalisation in smpp_transport.receipts (pure, no Django): golden cases and
properties, so a submit_sm_resp id and its receipt's id meet."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smpp_transport.receipts import (
    ReceiptError,
    normalise_message_id,
)

# --- message id normalisation --------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "id_format", "source", "expected"),
    [
        ("00AB12", "hex", "resp", "ab12"),
        ("00AB12", "hex", "receipt", "ab12"),
        ("000123", "decimal", "resp", "123"),
        ("0000", "hex", "resp", "0"),
        ("0000", "decimal", "receipt", "0"),
        ("0000", "auto", "resp", "0"),
        (" 00Ab-12\x00", "auto", "receipt", "ab-12"),
        ("000123", "auto", "resp", "123"),  # auto never converts bases
        (b"1A2B3C4D\x00", "hex", "resp", "1a2b3c4d"),
        # hex account, decimal receipt (Kannel msg-id-type 0x01): 9+ digits are decimal
        ("0439041101", "hex", "receipt", "1a2b3c4d"),
        ("439041101", "hex", "receipt", "1a2b3c4d"),
        ("12345678", "hex", "receipt", "12345678"),  # 8 digits: read as hex
        ("0439041101", "hex", "resp", "439041101"),  # the resp side never converts
    ],
)
def test_normalise_golden(raw: str, id_format: str, source: str, expected: str) -> None:
    assert normalise_message_id(raw, id_format, source=source) == expected  # type: ignore[arg-type]


def test_hex_resp_and_decimal_receipt_meet() -> None:
    resp = normalise_message_id("1A2B3C4D", "hex", source="resp")
    receipt = normalise_message_id("0439041101", "hex", source="receipt")
    assert resp == receipt


@pytest.mark.parametrize(
    ("raw", "id_format", "message"),
    [
        ("", "auto", "empty"),
        (" \x00 ", "hex", "empty"),
        ("12g4", "hex", "not hexadecimal"),
        ("0x1f", "hex", "not hexadecimal"),
        ("12a", "decimal", "not decimal"),
        ("١٢٣", "decimal", "not decimal"),  # non-ASCII digits
        ("12", "base64", "unknown id format"),
    ],
)
def test_normalise_errors(raw: str, id_format: str, message: str) -> None:
    with pytest.raises(ReceiptError, match=message):
        normalise_message_id(raw, id_format)


id_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs")), min_size=1, max_size=40)
formats_and_ids = st.one_of(
    st.tuples(st.just("auto"), id_text),
    st.tuples(st.just("hex"), st.text("0123456789abcdefABCDEF", min_size=1, max_size=20)),
    st.tuples(st.just("decimal"), st.text("0123456789", min_size=1, max_size=20)),
)


@given(case=formats_and_ids, source=st.sampled_from(["resp", "receipt"]))
def test_property_normalise_is_idempotent(case: tuple[str, str], source: str) -> None:
    id_format, raw = case
    once = normalise_message_id(raw, id_format, source=source)  # type: ignore[arg-type]
    # The result is a resp-side key: normalising it again (as resp) changes nothing.
    assert normalise_message_id(once, id_format, source="resp") == once
    if source == "resp" or id_format != "hex":
        assert normalise_message_id(once, id_format, source=source) == once  # type: ignore[arg-type]


@given(
    value=st.integers(min_value=0, max_value=2**64),
    zeros=st.integers(min_value=0, max_value=6),
    data=st.data(),
)
def test_property_hex_leading_zeros_and_case_do_not_matter(value: int, zeros: int, data: st.DataObject) -> None:
    digits = "0" * zeros + format(value, "x")
    cased = "".join(c.upper() if data.draw(st.booleans()) else c for c in digits)
    assert normalise_message_id(cased, "hex") == format(value, "x")
    assert normalise_message_id(cased, "auto") == normalise_message_id(digits, "auto")


@given(value=st.integers(min_value=0, max_value=2**32 - 1))
def test_property_zero_padded_decimal_receipt_matches_hex_resp(value: int) -> None:
    resp = normalise_message_id(format(value, "08X"), "hex", source="resp")
    receipt = normalise_message_id(f"{value:010d}", "hex", source="receipt")
    assert resp == receipt
