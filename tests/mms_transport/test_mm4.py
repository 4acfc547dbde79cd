"""The MM4 builder and parser: golden bytes, the exact header set, part order, SMIL, round trips."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mms_transport import mm4

DATE = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def request(**overrides) -> mm4.ForwardRequest:
    fields = {
        "sender": "+15550100",
        "recipient": "+447700900123",
        "originator_domain": "mms.example.com",
        "recipient_domain": "mmsc.example.net",
        "transaction_id": "77-0a1b2c",
        "message_id": "77.0a1b2c3d@mms.example.com",
        "date": DATE,
        "subject": "Spring sale",
        "text": "Hi Alex,\nsale on now!",
        "media": (
            mm4.MediaItem("photo.png", "image/png", b"\x89PNG\r\n\x1a\nDATA"),
            mm4.MediaItem("jingle.amr", "audio/amr", b"#!AMR\n0123"),
        ),
    }
    fields.update(overrides)
    return mm4.ForwardRequest(**fields)


GOLDEN = "\r\n".join(
    [
        "X-Mms-3GPP-MMS-Version: 6.10.0",
        "X-Mms-Message-Type: MM4_forward.REQ",
        "X-Mms-Transaction-ID: 77-0a1b2c",
        "X-Mms-Message-ID: <77.0a1b2c3d@mms.example.com>",
        "X-Mms-Ack-Request: Yes",
        "X-Mms-Delivery-Report: Yes",
        "X-Mms-Originator-System: system-user@mms.example.com",
        "Sender: +15550100/TYPE=PLMN@mms.example.com",
        "From: +15550100/TYPE=PLMN@mms.example.com",
        "To: +447700900123/TYPE=PLMN@mmsc.example.net",
        "Date: Sun, 01 Mar 2026 12:00:00 +0000",
        "Message-ID: <77.0a1b2c3d@mms.example.com>",
        "Subject: Spring sale",
        "MIME-Version: 1.0",
        'Content-Type: multipart/related; type="application/smil"; start="<smil>";',
        ' boundary="=_mm4_77-0a1b2c"',
        "",
        "--=_mm4_77-0a1b2c",
        "Content-Type: application/smil",
        "Content-Transfer-Encoding: 7bit",
        "Content-ID: <smil>",
        "Content-Location: smil.smil",
        "",
        "<smil>",
        "<head>",
        "<layout>",
        '<root-layout width="320" height="480"/>',
        '<region id="Image" left="0" top="0" width="320" height="320" fit="meet"/>',
        '<region id="Text" left="0" top="320" width="320" height="160" fit="scroll"/>',
        "</layout>",
        "</head>",
        "<body>",
        '<par dur="5000ms">',
        '<img src="photo.png" region="Image"/>',
        '<audio src="jingle.amr"/>',
        '<text src="text.txt" region="Text"/>',
        "</par>",
        "</body>",
        "</smil>",
        "",
        "--=_mm4_77-0a1b2c",
        'Content-Type: image/png; name="photo.png"',
        "Content-Transfer-Encoding: base64",
        "Content-ID: <photo.png>",
        "Content-Location: photo.png",
        "",
        "iVBORw0KGgpEQVRB",
        "",
        "--=_mm4_77-0a1b2c",
        'Content-Type: audio/amr; name="jingle.amr"',
        "Content-Transfer-Encoding: base64",
        "Content-ID: <jingle.amr>",
        "Content-Location: jingle.amr",
        "",
        "IyFBTVIKMDEyMw==",
        "",
        "--=_mm4_77-0a1b2c",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: quoted-printable",
        "Content-ID: <text.txt>",
        "Content-Location: text.txt",
        "",
        "Hi Alex,",
        "sale on now!",
        "",
        "--=_mm4_77-0a1b2c--",
        "",
    ]
).encode()


def test_forward_request_matches_the_golden_bytes() -> None:
    assert mm4.to_bytes(mm4.build_forward_request(request())) == GOLDEN


def test_forward_request_has_exactly_the_mm4_headers_in_order() -> None:
    parsed = mm4.parse_mm4(mm4.to_bytes(mm4.build_forward_request(request())))
    names = [name for name, _ in parsed.headers]
    assert names == [*mm4.FORWARD_REQ_HEADERS, "MIME-Version", "Content-Type"]
    assert parsed.content_type == "multipart/related"
    assert parsed.params["type"] == "application/smil"
    assert parsed.params["start"] == "<smil>"


def test_parts_are_smil_media_then_text_each_with_content_id_and_location() -> None:
    parsed = mm4.parse_mm4(mm4.to_bytes(mm4.build_forward_request(request())))
    assert [(p.content_type, p.content_id, p.content_location) for p in parsed.parts] == [
        ("application/smil", "<smil>", "smil.smil"),
        ("image/png", "<photo.png>", "photo.png"),
        ("audio/amr", "<jingle.amr>", "jingle.amr"),
        ("text/plain", "<text.txt>", "text.txt"),
    ]
    assert parsed.parts[0].content_id == parsed.params["start"]  # start points at the SMIL part
    smil = parsed.smil or ""
    for part in parsed.parts[1:]:
        assert f'src="{part.content_location}"' in smil  # every part is shown by the SMIL


def test_non_ascii_text_and_subject_never_go_out_as_8bit() -> None:
    data = mm4.to_bytes(mm4.build_forward_request(request(subject="Soldes d'été ☀", text="Café crème — 20 %")))
    data.decode("ascii")  # 7-bit clean on the wire
    parsed = mm4.parse_mm4(data)
    assert parsed.header("Subject") == "Soldes d'été ☀"
    assert parsed.text == "Café crème — 20 %"


def test_expiry_is_written_when_the_campaign_has_a_validity() -> None:
    parsed = mm4.parse_mm4(mm4.to_bytes(mm4.build_forward_request(request(expiry=DATE))))
    assert parsed.header("X-Mms-Expiry") == "Sun, 01 Mar 2026 12:00:00 +0000"


def test_text_only_message_has_a_smil_and_a_text_part() -> None:
    parsed = mm4.parse_mm4(mm4.to_bytes(mm4.build_forward_request(request(media=()))))
    assert [p.content_type for p in parsed.parts] == ["application/smil", "text/plain"]
    assert '<text src="text.txt" region="Text"/>' in (parsed.smil or "")


def test_two_pictures_make_two_slides() -> None:
    smil = mm4.smil_document([("a.png", "image/png"), ("b.mp4", "video/mp4")], None)
    assert smil.count("<par ") == 2
    assert '<video src="b.mp4" region="Image"/>' in smil


def test_part_names_are_safe_unique_and_never_clash_with_smil_or_text() -> None:
    media = [mm4.MediaItem(n, "image/png", b"") for n in ("../etc/p.png", "p.png", "text.txt", "été.png", "")]
    assert mm4.part_names(media) == ["p.png", "p_2.png", "text_2.txt", "ete.png", "media5.png"]


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("<ABC123>", "abc123"),
        (' "AbC123" ', "abc123"),
        ("abc123", "abc123"),
        ("<77.x@MMS.example>", "77.x@mms.example"),
    ],
)
def test_message_ids_normalise_the_same_from_reply_and_header(raw: str, normalised: str) -> None:
    assert mm4.normalise_message_id(raw) == normalised


@pytest.mark.parametrize("raw", ["", "  ", "<>", None, "a b"])
def test_unusable_message_ids_are_refused(raw) -> None:
    with pytest.raises(ValueError):
        mm4.normalise_message_id(raw)


def test_addresses() -> None:
    assert mm4.plmn_address("+44 7700-900123", "d.example") == "+447700900123/TYPE=PLMN@d.example"
    assert mm4.envelope_address("+447700900123", "d.example") == "447700900123@d.example"
    assert mm4.address_number("+447700900123/TYPE=PLMN@d.example") == "+447700900123"
    assert mm4.address_number("<447700900123@d.example>") == "+447700900123"
    assert mm4.address_number("system-user@d.example") is None
    with pytest.raises(ValueError):
        mm4.e164_digits("DemoShop")


# -- reports --------------------------------------------------------------------------------------

PROVIDER_REPORT = (
    b"X-Mms-3GPP-MMS-Version: 6.3.0\r\n"
    b"X-Mms-Message-Type: MM4_delivery_report.REQ\r\n"
    b"X-Mms-Transaction-ID: 0001\r\n"
    b'X-Mms-Message-ID: "5F3A9C21AB"\r\n'
    b"X-Mms-MM-Status-Code: Retrieved\r\n"
    b"From: +447700900123/TYPE=PLMN@mmsc.example.net\r\n"
    b"To: +15550100/TYPE=PLMN@mms.example.com\r\n"
    b"Date: Sun, 01 Mar 2026 12:00:05 +0000\r\n"
    b"\r\n"
)


def test_a_provider_style_delivery_report_parses() -> None:
    parsed = mm4.parse_mm4(PROVIDER_REPORT)
    assert parsed.message_type == mm4.DELIVERY_REPORT_REQ
    assert mm4.normalise_message_id(parsed.message_id) == "5f3a9c21ab"
    assert parsed.header("x-mms-mm-status-code") == "Retrieved"
    assert parsed.date == datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)
    assert parsed.parts == ()


@pytest.mark.parametrize(
    ("kind", "header", "status"),
    [
        (mm4.DELIVERY_REPORT_REQ, "X-Mms-MM-Status-Code", "Expired"),
        (mm4.FORWARD_RES, "X-Mms-Request-Status-Code", "Error-service-denied"),
    ],
)
def test_built_reports_parse_back(kind: str, header: str, status: str) -> None:
    msg = mm4.build_report(
        message_type=kind,
        transaction_id="t9",
        message_id="ABC",
        sender="+447700900123",
        recipient="+15550100",
        originator_domain="mms.example.com",
        recipient_domain="mmsc.example.net",
        date=DATE,
        status_header=header,
        status=status,
        status_text="why",
    )
    parsed = mm4.parse_mm4(mm4.to_bytes(msg))
    assert parsed.message_type == kind
    assert parsed.header(header) == status
    assert parsed.message_id == "<ABC>"
    assert parsed.header("To") == "+15550100/TYPE=PLMN@mms.example.com"
    assert "X-Mms-Status-Text: why" in parsed.header_block()


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"Subject: hi\r\n\r\nbody", b"\xff\xfe\x00garbage", b"X-Mms-Message-Type\r\n\r\n"],
)
def test_garbage_is_a_parse_error_not_a_crash(data: bytes) -> None:
    with pytest.raises(mm4.MM4ParseError):
        mm4.parse_mm4(data)


# -- round trips ----------------------------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
_media = st.lists(
    st.builds(
        mm4.MediaItem,
        name=st.text(max_size=20),
        content_type=st.sampled_from(["image/jpeg", "image/png", "image/gif", "audio/amr", "video/mp4"]),
        data=st.binary(max_size=2000),
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(subject=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=120), text=_text, media=_media)
def test_any_message_parses_back_with_every_header_and_part(subject: str, text: str, media) -> None:
    req = request(subject=subject, text=text, media=tuple(media))
    data = mm4.to_bytes(mm4.build_forward_request(req))
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))  # RFC 5321 line limit
    parsed = mm4.parse_mm4(data)
    assert parsed.header("X-Mms-Message-Type") == mm4.FORWARD_REQ
    assert " ".join(parsed.header("Subject").split()) == " ".join(subject.split())
    assert parsed.text == mm4.canonical_text(text)
    names = mm4.part_names(media)
    assert [(p.content_type, p.content_location, p.data) for p in parsed.media] == [
        (m.content_type, n, m.data) for m, n in zip(media, names, strict=True)
    ]
    assert len(set(names)) == len(names)
