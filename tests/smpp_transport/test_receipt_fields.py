"""smpp_transport.receipts (pure, no Django): stat and message_state mapping, receipt dates, and
any built receipt parsing back to its fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smpp_transport.receipts import (
    MESSAGE_STATE_STATS,
    STAT_TO_STATUS,
    ParsedReceipt,
    parse_receipt,
    parse_receipt_date,
)
from tests.smpp_transport.receipt_cases import RECEIPT, dt

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
