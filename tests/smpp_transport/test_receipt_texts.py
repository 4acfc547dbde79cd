"""Golden receipt texts for smpp_transport.receipts (pure, no Django): parsing, what counts as
a receipt, and TLVs against the text."""

from __future__ import annotations

import pytest

from smpp_transport.receipts import (
    ParsedReceipt,
    ReceiptError,
    parse_receipt,
)
from tests.smpp_transport.receipt_cases import RECEIPT, dt

# --- golden receipt texts --------------------------------------------------------------

GOLDEN = [
    (
        # Standard SMPP 3.4 Appendix B / Kannel
        b"id:0123456789 sub:001 dlvrd:001 submit date:2401311230 done date:2401311231 "
        b"stat:DELIVRD err:000 text:Hello world",
        ParsedReceipt(
            message_id="0123456789",
            stat="DELIVRD",
            status="delivered",
            err="000",
            submit_date=dt(2024, 1, 31, 12, 30),
            done_date=dt(2024, 1, 31, 12, 31),
            text="Hello world",
        ),
    ),
    (
        # Jasmin: UUID ids, 12-digit dates
        b"id:5f1c0b7e-0f4e-4b8a-9a0b-1c2d3e4f5a6b sub:001 dlvrd:000 "
        b"submit date:240131123005 done date:240131123110 stat:UNDELIV err:011 text:",
        ParsedReceipt(
            message_id="5f1c0b7e-0f4e-4b8a-9a0b-1c2d3e4f5a6b",
            stat="UNDELIV",
            status="undelivered",
            err="011",
            submit_date=dt(2024, 1, 31, 12, 30, 5),
            done_date=dt(2024, 1, 31, 12, 31, 10),
            text="",
        ),
    ),
    (
        # lower case, err missing, dates missing
        b"id:abc123 sub:001 dlvrd:001 stat:delivrd text:x",
        ParsedReceipt(message_id="abc123", stat="DELIVRD", status="delivered", text="x"),
    ),
    (
        # other order, extra fields, underscores in date names, text with colons
        b"stat:EXPIRED err:0 mcc:234 ID:77 done_date:2402291159 submit_date:2402281159 "
        b"sub:1 Text:Meet at 10:30 id:9 stat:DELIVRD",
        ParsedReceipt(
            message_id="77",
            stat="EXPIRED",
            status="expired",
            err="0",
            submit_date=dt(2024, 2, 28, 11, 59),
            done_date=dt(2024, 2, 29, 11, 59),
            text="Meet at 10:30 id:9 stat:DELIVRD",
        ),
    ),
    (
        # unrecognised stat keeps the raw word, status unknown; bad date tolerated
        b"id:1 sub:001 dlvrd:000 submit date:2413011230 done date:24 stat:FOOBAR err:999",
        ParsedReceipt(message_id="1", stat="FOOBAR", status="unknown", err="999"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_golden_receipt_texts(text: bytes, expected: ParsedReceipt) -> None:
    assert parse_receipt(short_message=text, esm_class=RECEIPT, optional_params={}) == expected


def test_receipt_text_as_str_and_in_message_payload() -> None:
    text = "id:42 stat:DELIVRD err:000 text:hi"
    assert parse_receipt(short_message=text, esm_class=RECEIPT).message_id == "42"
    parsed = parse_receipt(short_message=b"", esm_class=RECEIPT, optional_params={"message_payload": text.encode()})
    assert parsed is not None and parsed.stat == "DELIVRD"


def test_addresses_are_passed_through() -> None:
    parsed = parse_receipt(
        short_message=b"id:1 stat:DELIVRD",
        esm_class=RECEIPT,
        source_addr=b"447700900123",
        destination_addr="ACME",
    )
    assert parsed is not None
    assert (parsed.source_addr, parsed.destination_addr) == ("447700900123", "ACME")


# --- receipt detection ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [b"Hello, is this the right number?", b"my id: 5 and stat: ok", b"STOP", b""],
)
def test_mo_messages_are_not_receipts(text: bytes) -> None:
    assert parse_receipt(short_message=text, esm_class=0x00, optional_params={}) is None


def test_receipt_text_with_plain_esm_class_is_recognised() -> None:
    text = b"id:99 sub:001 dlvrd:001 stat:DELIVRD err:000 text:x"
    parsed = parse_receipt(short_message=text, esm_class=0x00, optional_params={})
    assert parsed is not None and parsed.message_id == "99"


def test_intermediate_notification_is_a_receipt() -> None:
    parsed = parse_receipt(short_message=b"id:5 stat:ENROUTE", esm_class=0x20)
    assert parsed is not None and parsed.status == "accepted"


def test_tlvs_alone_make_a_receipt() -> None:
    parsed = parse_receipt(
        short_message=b"",
        esm_class=0,
        optional_params={"receipted_message_id": b"ab12\x00", "message_state": 2},
    )
    assert parsed == ParsedReceipt(message_id="ab12", stat="DELIVRD", status="delivered")


def test_receipt_without_any_id_is_an_error() -> None:
    with pytest.raises(ReceiptError, match="without a message id") as error:
        parse_receipt(short_message=b"stat:DELIVRD err:000 text:Meet me at 5 Ann", esm_class=RECEIPT)
    assert "Meet" not in str(error.value) and "DELIVRD" in str(error.value)  # it is logged: no text


# --- TLV precedence and the smpplib truncation ---------------------------------------


def test_tlvs_take_precedence_over_text() -> None:
    parsed = parse_receipt(
        short_message=b"id:111 sub:001 dlvrd:001 stat:DELIVRD err:000 text:",
        esm_class=RECEIPT,
        optional_params={"receipted_message_id": "6F", "message_state": 5},
    )
    assert parsed is not None
    assert (parsed.message_id, parsed.stat, parsed.status) == ("6F", "UNDELIV", "undelivered")
    assert parsed.err == "000"  # the text still fills what the TLVs lack


@pytest.mark.parametrize("state", [b"\x03", "3"])
def test_message_state_as_bytes_or_str(state: bytes | str) -> None:
    parsed = parse_receipt(short_message=b"id:1", esm_class=RECEIPT, optional_params={"message_state": state})
    assert parsed is not None and parsed.status == "expired"


def test_unknown_message_state_falls_back_to_text_then_raw() -> None:
    with_text = parse_receipt(
        short_message=b"id:1 stat:DELIVRD", esm_class=RECEIPT, optional_params={"message_state": 9}
    )
    assert with_text is not None and with_text.stat == "DELIVRD"
    without = parse_receipt(short_message=b"id:1", esm_class=RECEIPT, optional_params={"message_state": 9})
    assert without is not None and (without.stat, without.status) == ("STATE_9", "unknown")


def test_truncated_tlv_id_defers_to_the_text() -> None:
    # smpplib drops the last byte of a receipted_message_id sent without its NUL.
    parsed = parse_receipt(
        short_message=b"id:1A2B3C4D stat:DELIVRD",
        esm_class=RECEIPT,
        optional_params={"receipted_message_id": b"1a2b3c4"},
    )
    assert parsed is not None and parsed.message_id == "1A2B3C4D"


@pytest.mark.parametrize(
    ("tlv", "text_id"),
    [
        ("1a2b3c4d", "1a2b3c4d"),  # agree
        ("1a2b3c", "1a2b3c4d"),  # two shorter: not the smpplib bug
        ("4d2", "0000001234"),  # text in another base
    ],
)
def test_other_tlv_text_disagreements_keep_the_tlv(tlv: str, text_id: str) -> None:
    parsed = parse_receipt(
        short_message=f"id:{text_id} stat:DELIVRD".encode(),
        esm_class=RECEIPT,
        optional_params={"receipted_message_id": tlv},
    )
    assert parsed is not None and parsed.message_id == tlv
