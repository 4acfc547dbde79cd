"""Golden receipts and properties for smpp_transport.receipts (pure, no Django)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smpp_transport.receipts import (
    MESSAGE_STATE_STATS,
    STAT_TO_STATUS,
    ParsedReceipt,
    ReceiptError,
    normalise_message_id,
    parse_receipt,
    parse_receipt_date,
)

RECEIPT = 0x04


def dt(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


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


# --- status mapping ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stat", "status"),
    [
        ("DELIVRD", "delivered"),
        ("EXPIRED", "expired"),
        ("DELETED", "undelivered"),
        ("UNDELIV", "undelivered"),
        ("ACCEPTD", "accepted"),
        ("UNKNOWN", "unknown"),
        ("REJECTD", "rejected"),
        ("ENROUTE", "accepted"),
        ("DELIVERED", "delivered"),
        ("rejected", "rejected"),
        ("WHATEVER", "unknown"),
    ],
)
def test_every_stat_mapping(stat: str, status: str) -> None:
    parsed = parse_receipt(short_message=f"id:1 stat:{stat}".encode(), esm_class=RECEIPT)
    assert parsed is not None
    assert (parsed.stat, parsed.status) == (stat.upper(), status)


@pytest.mark.parametrize(
    ("state", "stat", "status"),
    [
        (1, "ENROUTE", "accepted"),
        (2, "DELIVRD", "delivered"),
        (3, "EXPIRED", "expired"),
        (4, "DELETED", "undelivered"),
        (5, "UNDELIV", "undelivered"),
        (6, "ACCEPTD", "accepted"),
        (7, "UNKNOWN", "unknown"),
        (8, "REJECTD", "rejected"),
    ],
)
def test_every_message_state_mapping(state: int, stat: str, status: str) -> None:
    parsed = parse_receipt(
        short_message=b"",
        esm_class=RECEIPT,
        optional_params={"receipted_message_id": b"7\x00", "message_state": state},
    )
    assert parsed is not None and (parsed.stat, parsed.status) == (stat, status)
    assert STAT_TO_STATUS[MESSAGE_STATE_STATS[state]] == status


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2401311230", dt(2024, 1, 31, 12, 30)),
        ("240131123059", dt(2024, 1, 31, 12, 30, 59)),
        ("20240131123059", dt(2024, 1, 31, 12, 30, 59)),
        ("6912311230", dt(2069, 12, 31, 12, 30)),  # not 1969, as strptime's %y would say
        ("2402301230", None),
        ("24013112", None),
        ("24013112aa", None),
        ("", None),
        (None, None),
    ],
)
def test_receipt_dates(value: str | None, expected: datetime | None) -> None:
    assert parse_receipt_date(value) == expected


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


field_value = st.text(st.characters(whitelist_categories=("L", "N"), max_codepoint=0x7F), min_size=1)
stats = st.sampled_from([*STAT_TO_STATUS, "FOO"])
dates = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC)
)


@given(
    message_id=field_value,
    stat=stats,
    err=st.text("0123456789", min_size=3, max_size=3),
    submit=dates,
    done=dates,
    with_seconds=st.booleans(),
    text=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(str.rstrip),
    shuffle=st.randoms(use_true_random=False),
)
def test_property_built_receipt_parses_back(
    message_id: str,
    stat: str,
    err: str,
    submit: datetime,
    done: datetime,
    with_seconds: bool,
    text: str,
    shuffle,
) -> None:
    fmt = "%y%m%d%H%M%S" if with_seconds else "%y%m%d%H%M"
    if not with_seconds:
        submit, done = submit.replace(second=0), done.replace(second=0)
    fields = [
        f"id:{message_id}",
        "sub:001",
        "dlvrd:001",
        f"submit date:{submit.strftime(fmt)}",
        f"done date:{done.strftime(fmt)}",
        f"stat:{stat}",
        f"err:{err}",
    ]
    shuffle.shuffle(fields)
    raw = " ".join([*fields, f"text:{text}"]).encode()
    parsed = parse_receipt(short_message=raw, esm_class=RECEIPT, optional_params={})
    assert parsed == ParsedReceipt(
        message_id=message_id,
        stat=stat,
        status=STAT_TO_STATUS.get(stat, "unknown"),
        err=err,
        submit_date=submit,
        done_date=done,
        text=text,
    )
