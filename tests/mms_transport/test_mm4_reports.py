"""What an MMSC sends back, as golden bytes built by hand per 3GPP TS 23.140 §8.4, and the
receipt each becomes (``adapter.to_receipt``): which id it refers to, its status, whether it is
applied or only kept. Pure: no database, no sockets (the receiver tests send these over SMTP)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.services.transport_api import PartToSend
from mms_transport import mm4
from mms_transport.adapter import local_message_id, to_outcome, to_receipt
from mms_transport.client import SendResult

OURS = "77.1.0a1b2c3d4e5f6071@mms.example.com"  # the X-Mms-Message-ID of our MM4_forward.REQ


def message(*headers: str, body: str = "") -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode("ascii")


# MM4_delivery_report.REQ (§8.4.2): X-Mms-Message-ID is the Message ID of the ORIGINAL MM;
# the RFC 5322 Message-ID is the report's own. Mixed case and angle brackets, as sent.
DELIVERY_REPORT = message(
    "X-Mms-3GPP-MMS-Version: 6.10.0",
    "X-Mms-Message-Type: MM4_delivery_report.REQ",
    "X-Mms-Transaction-ID: 9a8b7c",
    "X-Mms-Message-ID: <77.1.0A1B2C3D4E5F6071@MMS.Example.com>",
    "X-Mms-Ack-Request: No",
    "X-Mms-MM-Status-Code: Retrieved",
    "X-Mms-Status-Text: Message retrieved",
    "Sender: system-user@mmsc.operator.example",
    "From: +447700900123/TYPE=PLMN@mmsc.operator.example",
    "To: +15550100/TYPE=PLMN@mms.example.com",
    "Date: Sun, 01 Mar 2026 12:00:05 +0000",
    "Message-ID: <dr-20260301120005-1@mmsc.operator.example>",
)
# MM4_forward.RES (§8.4.1): the recipient MMSC's answer to our forward, about the same MM.
FORWARD_RES = message(
    "X-Mms-3GPP-MMS-Version: 6.10.0",
    "X-Mms-Message-Type: MM4_forward.RES",
    "X-Mms-Transaction-ID: 77-1-0a1b2c3d4e5f",
    f"X-Mms-Message-ID: <{OURS}>",
    "X-Mms-Request-Status-Code: Ok",
    "X-Mms-Status-Text: Message accepted",
    "Sender: system-user@mmsc.operator.example",
    "To: system-user@mms.example.com",
    "Date: Sun, 01 Mar 2026 12:00:01 +0000",
    "Message-ID: <fr-9a8b7c@mmsc.operator.example>",
)
# MM4_read_reply_report.REQ (§8.4.3), with the quoted ids some MMSCs (Mbuni) write.
READ_REPLY = message(
    "X-Mms-3GPP-MMS-Version: 6.10.0",
    "X-Mms-Message-Type: MM4_read_reply_report.REQ",
    'X-Mms-Transaction-ID: "rr-77"',
    f'X-Mms-Message-ID: "{OURS}"',
    "X-Mms-Ack-Request: No",
    "X-Mms-Read-Status: Deleted without being read",
    "Sender: +447700900123/TYPE=PLMN@mmsc.operator.example",
    "From: +447700900123/TYPE=PLMN@mmsc.operator.example",
    "To: +15550100/TYPE=PLMN@mms.example.com",
    "Date: Sun, 01 Mar 2026 13:00:00 +0000",
    "Message-ID: <rr-77@mmsc.operator.example>",
)
# A type this release does not know (a later release, a vendor's own).
UNKNOWN_TYPE = message(
    "X-Mms-3GPP-MMS-Version: 7.0.0",
    "X-Mms-Message-Type: MM4_future_notice.REQ",
    "X-Mms-Transaction-ID: f1",
    f"X-Mms-Message-ID: <{OURS}>",
    "Date: Sun, 01 Mar 2026 13:00:00 +0000",
)
# A response to a report we never sent: known to TS 23.140, unexpected here.
DELIVERY_REPORT_RES = message(
    "X-Mms-3GPP-MMS-Version: 6.10.0",
    "X-Mms-Message-Type: MM4_delivery_report.RES",
    "X-Mms-Transaction-ID: 9a8b7c",
    "X-Mms-Request-Status-Code: Ok",
)
# Liberal reading: lower-case names and type, a trailing comment, the MM1 status name.
LOWER_CASE_REPORT = message(
    "x-mms-message-type: mm4_delivery_report.req",
    "x-mms-message-id: <77.1.0a1b2c3d4e5f6071@MMS.EXAMPLE.COM> (the original)",
    "x-mms-status: Expired",
    "from: +447700900123/TYPE=PLMN@mmsc.operator.example",
)
# The queued-as id, bare, as some MMSCs (and the simulator's --report-id queued) send it.
QUEUED_ID_REPORT = message(
    "X-Mms-Message-Type: MM4_delivery_report.REQ",
    "X-Mms-Message-ID: 5F3A9C21AB",
    "X-Mms-MM-Status-Code: Rejected",
)
# No X-Mms-Message-ID at all: the RFC 5322 reply headers name the original.
IN_REPLY_TO_REPORT = message(
    "X-Mms-Message-Type: MM4_delivery_report.REQ",
    "X-Mms-MM-Status-Code: Retrieved",
    f"In-Reply-To: <{OURS}>",
    f"References: <root@elsewhere.example> <{OURS}>",
    "Message-ID: <own-id@mmsc.operator.example>",
)
REFERENCES_REPORT = message(
    "X-Mms-Message-Type: MM4_delivery_report.REQ",
    "X-Mms-MM-Status-Code: Retrieved",
    f"References: <root@elsewhere.example>\r\n <{OURS}>",
    "Message-ID: <own-id@mmsc.operator.example>",
)
NO_REFERENCE_REPORT = message(
    "X-Mms-Message-Type: MM4_delivery_report.REQ",
    "X-Mms-MM-Status-Code: Retrieved",
    "Message-ID: <own-id@mmsc.operator.example>",  # its own id: never taken for the original's
)


@pytest.mark.parametrize(
    ("data", "referenced", "status", "stat"),
    [
        (DELIVERY_REPORT, OURS, "delivered", "Retrieved"),
        (FORWARD_RES, OURS, "accepted", "Ok"),
        (LOWER_CASE_REPORT, OURS, "expired", "Expired"),
        (QUEUED_ID_REPORT, "5f3a9c21ab", "rejected", "Rejected"),
        (IN_REPLY_TO_REPORT, OURS, "delivered", "Retrieved"),
        (REFERENCES_REPORT, OURS, "delivered", "Retrieved"),
    ],
)
def test_reports_to_apply_refer_to_the_original_by_either_id(data, referenced, status, stat) -> None:
    receipt = to_receipt(mm4.parse_mm4(data))
    assert receipt is not None and not receipt.informational
    assert (receipt.provider_message_id, receipt.status, receipt.stat, receipt.channel) == (
        referenced,
        status,
        stat,
        "mm4",
    )


def test_a_delivery_report_keeps_its_handset_date_and_headers() -> None:
    receipt = to_receipt(mm4.parse_mm4(DELIVERY_REPORT))
    assert receipt.msisdn == "+447700900123"  # the original recipient: lets an unknown part adopt it
    assert receipt.done_at == datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    assert "Message-ID: <dr-20260301120005-1@mmsc.operator.example>" in receipt.raw
    assert to_receipt(mm4.parse_mm4(FORWARD_RES)).msisdn == ""  # from the MMSC, not a handset


@pytest.mark.parametrize(
    ("data", "referenced", "stat"),
    [
        (READ_REPLY, OURS, "Deleted without being read"),
        (UNKNOWN_TYPE, OURS, "MM4_future_notice.REQ"),
        (DELIVERY_REPORT_RES, "", "MM4_delivery_report.RES"),
    ],
)
def test_read_replies_and_other_types_are_kept_for_the_record_only(data, referenced, stat) -> None:
    receipt = to_receipt(mm4.parse_mm4(data))
    assert receipt is not None and receipt.informational
    assert (receipt.provider_message_id, receipt.status, receipt.stat) == (referenced, "", stat)
    assert "X-Mms-Message-Type: " in receipt.raw


def test_an_mms_sent_to_us_is_not_a_receipt() -> None:
    forward = mm4.build_forward_request(
        mm4.ForwardRequest(
            sender="+447700900123",
            recipient="+15550100",
            originator_domain="mmsc.operator.example",
            recipient_domain="mms.example.com",
            transaction_id="mo1",
            message_id="mo1@mmsc.operator.example",
            date=datetime(2026, 3, 1, tzinfo=UTC),
            text="hello",
        )
    )
    assert to_receipt(mm4.parse_mm4(mm4.to_bytes(forward))) is None


def test_a_report_that_names_no_original_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="unusable MM4 message id"):
        to_receipt(mm4.parse_mm4(NO_REFERENCE_REPORT))


@pytest.mark.parametrize(
    ("value", "referenced"),
    [
        ("<AbC@x>", "AbC@x"),
        ('"abc@x"', '"abc@x"'),
        ("abc", "abc"),
        ("<a@x> (comment)", "a@x"),
        ("  <  a@x  >  ", "a@x"),
        ("<>", "<>"),
    ],
)
def test_referenced_message_id_takes_what_the_header_brackets(value: str, referenced: str) -> None:
    parsed = mm4.parse_mm4(message("X-Mms-Message-Type: MM4_delivery_report.REQ", f"X-Mms-Message-ID: {value}"))
    assert mm4.referenced_message_id(parsed) == referenced


_value = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from([mm4.DELIVERY_REPORT_REQ, mm4.FORWARD_RES, mm4.READ_REPLY_REPORT_REQ, "x"]) | _value,
    reference=_value,
    status=_value,
    date=_value,
)
def test_any_header_values_give_a_receipt_or_a_value_error_never_a_crash(kind, reference, status, date) -> None:
    data = message(
        f"X-Mms-Message-Type: {kind}",
        f"X-Mms-Message-ID: {reference}",
        f"X-Mms-MM-Status-Code: {status}",
        f"X-Mms-Request-Status-Code: {status}",
        f"Date: {date}",
    )
    try:
        parsed = mm4.parse_mm4(data)
        receipt = to_receipt(parsed)
    except ValueError:  # MM4ParseError included: the receiver answers 554 with the reason
        return
    if receipt is not None:
        assert receipt.informational or receipt.provider_message_id  # a receipt to apply always names an id


# -- our id, and what a 250 without the provider's id means -----------------------------------------


def _part(**overrides):
    fields = {
        "message_id": 77,
        "index": 1,
        "total": 1,
        "account_id": 1,
        "campaign_id": 1,
        "phone": "+447700900123",
        "body": "hi",
        "sender": "+15550100",
        "sender_ton": 1,
        "sender_npi": 1,
        "validity": None,
    }
    return PartToSend(**{**fields, **overrides})


def test_our_id_is_unique_normalised_and_in_msg_id_form() -> None:
    first, second = (local_message_id(_part(), domain="MMS.Example.com") for _ in range(2))
    assert first != second  # a resend is a new MM with a new id
    left, _, domain = first.partition("@")
    assert left.startswith("77.1.") and domain == "mms.example.com"
    assert mm4.normalise_message_id(first) == first
    assert len(local_message_id(_part(), domain="d" * 400)) <= 255  # fits the column, whatever the domain


def test_a_250_without_the_provider_s_id_is_accepted_when_ours_went_out() -> None:
    queued_without_id = SendResult("accepted", provider_id=None, code=250, reply="250 2.0.0 Ok")
    named = to_outcome(_part(local_message_id=OURS), queued_without_id)
    assert (named.outcome, named.provider_message_id, named.part.local_message_id) == ("accepted", None, OURS)
    # Without our id nothing could ever match its report: it stays unknown, as before.
    assert to_outcome(_part(), queued_without_id).outcome == "unknown"
    with_id = to_outcome(_part(local_message_id=OURS), SendResult("accepted", provider_id="<AB12>", code=250))
    assert (with_id.outcome, with_id.provider_message_id) == ("accepted", "ab12")
