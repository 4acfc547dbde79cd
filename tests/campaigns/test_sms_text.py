"""Golden vectors and properties for campaigns.sms_text.encoding (pure, no Django)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.sms_text.encoding import (
    EncodingError,
    Segment,
    TextAnalysis,
    analyse,
    decode,
    split_message,
)
from campaigns.sms_text.gsm_alphabet import BASIC_TABLE, ESC, EXTENSION_TABLE, decode_gsm

GSM_CHARS = [c for c in BASIC_TABLE if c != "\x1b"] + list(EXTENSION_TABLE)


def payload(segment: Segment) -> bytes:
    """The text bytes of a segment, UDH removed."""
    if segment.esm_class & 0x40:
        return segment.short_message[segment.short_message[0] + 1 :]
    return segment.short_message


def joined(segments: list[Segment]) -> bytes:
    if "message_payload" in segments[0].optional_params:
        return segments[0].optional_params["message_payload"]  # type: ignore[return-value]
    return b"".join(payload(s) for s in segments)


# --- golden encodings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hex_", "data_coding"),
    [
        ("Hello", "48656c6c6f", 0),
        ("€", "1b65", 0),
        ("{}", "1b281b29", 0),
        ("@£$", "000102", 0),
        ("^\\[~]|\f", "1b141b2f1b3c1b3d1b3e1b401b0a", 0),
        ("¥èéùìòÇ\nØø\rÅå", "030405060708090a0b0c0d0e0f", 0),
        ("Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ", "101112131415161718191a1c1d1e1f", 0),
        (" ¤¡ÄÖÑÜ§¿äöñüà", "2024405b5c5d5e5f607b7c7d7e7f", 0),
        ("😀", "d83dde00", 8),
        ("`", "0060", 8),
        ("Привет", "041f04400438043204350442", 8),
        ("a€😀", "0061 20ac d83dde00".replace(" ", ""), 8),
    ],
)
def test_golden_single_segment(text: str, hex_: str, data_coding: int) -> None:
    [segment] = split_message(text)
    assert segment.short_message.hex() == hex_
    assert segment.data_coding == data_coding
    assert segment.esm_class == 0
    assert segment.optional_params == {}
    assert (segment.index, segment.total, segment.billable_segments) == (1, 1, 1)
    assert decode(segment.short_message, data_coding) == text


def test_analyse_reports_encoding_units_and_forcing_chars() -> None:
    assert analyse("Hello €") == TextAnalysis("GSM-7", 0, 8, 1, 160, ())
    result = analyse("it`s “fine” 😀 ``")
    assert result.encoding == "UCS-2"
    assert result.data_coding == 8
    assert result.units == 17  # 15 BMP chars + one surrogate pair
    assert result.ucs2_chars == ("`", "“", "”", "😀")


def test_backtick_is_not_gsm_unlike_smpplib() -> None:
    assert analyse("`").encoding == "UCS-2"


def test_empty_text_is_one_empty_sms() -> None:
    assert analyse("") == TextAnalysis("GSM-7", 0, 0, 1, 160, ())
    assert split_message("") == [Segment(b"", 0, 0, 1, 1)]


# --- boundaries ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "segments", "per_segment"),
    [
        ("a" * 160, 1, 160),
        ("a" * 161, 2, 153),
        ("a" * 306, 2, 153),
        ("a" * 307, 3, 153),
        ("€" * 80, 1, 160),
        ("€" * 81, 2, 153),
        ("ж" * 70, 1, 70),
        ("ж" * 71, 2, 67),
        ("ж" * 134, 2, 67),
        ("ж" * 135, 3, 67),
        ("😀" * 35, 1, 70),
        ("😀" * 36, 2, 67),
    ],
)
def test_segment_boundaries(text: str, segments: int, per_segment: int) -> None:
    result = analyse(text)
    assert (result.segments, result.per_segment) == (segments, per_segment)
    assert len(split_message(text)) == segments


def test_161_gsm_chars_split_153_plus_8() -> None:
    parts = split_message("a" * 161)
    assert [len(payload(p)) for p in parts] == [153, 8]


def test_escape_at_position_153_moves_whole_to_next_part() -> None:
    text = "a" * 152 + "€" + "b" * 10
    parts = split_message(text)
    assert [len(payload(p)) for p in parts] == [152, 12]
    assert payload(parts[0]).endswith(b"a")
    assert payload(parts[1]).startswith(bytes([ESC, 0x65]))
    assert [decode(p.short_message, 0, has_udh=True) for p in parts] == [
        "a" * 152,
        "€" + "b" * 10,
    ]


def test_emoji_straddling_67_boundary_moves_whole_to_next_part() -> None:
    text = "ж" * 66 + "😀" + "ж" * 10
    parts = split_message(text)
    assert [len(payload(p)) for p in parts] == [132, 24]
    assert payload(parts[1])[:4].hex() == "d83dde00"
    assert [decode(p.short_message, 8, has_udh=True) for p in parts] == ["ж" * 66, "😀" + "ж" * 10]


# --- concatenation modes -------------------------------------------------------------


def test_udh8_exact_bytes() -> None:
    parts = split_message("a" * 161, ref=0x1AB)  # ref reduced modulo 256
    assert [p.short_message[:6].hex() for p in parts] == ["050003ab0201", "050003ab0202"]
    assert all(p.esm_class == 0x40 and p.data_coding == 0 for p in parts)
    assert [(p.index, p.total) for p in parts] == [(1, 2), (2, 2)]
    assert all(p.optional_params == {} for p in parts)


def test_udh16_exact_bytes_and_smaller_parts() -> None:
    parts = split_message("a" * 161, concat="udh16", ref=0x12345)  # modulo 65536
    assert [p.short_message[:7].hex() for p in parts] == ["06080423450201", "06080423450202"]
    assert all(p.esm_class == 0x40 for p in parts)
    assert [len(payload(p)) for p in parts] == [152, 9]
    assert analyse("a" * 161, concat="udh16").per_segment == 152
    ucs2 = split_message("ж" * 71, concat="udh16")
    assert [len(payload(p)) for p in ucs2] == [132, 10]


def test_sar_uses_tlvs_and_no_udh() -> None:
    parts = split_message("ж" * 71, concat="sar", ref=70000)
    assert [p.esm_class for p in parts] == [0, 0]
    assert [len(p.short_message) for p in parts] == [134, 8]
    assert [p.optional_params for p in parts] == [
        {"sar_msg_ref_num": 70000 % 65536, "sar_total_segments": 2, "sar_segment_seqnum": 1},
        {"sar_msg_ref_num": 70000 % 65536, "sar_total_segments": 2, "sar_segment_seqnum": 2},
    ]


def test_single_part_has_no_concat_markers_in_any_mode() -> None:
    for mode in ("udh8", "udh16", "sar"):
        assert split_message("hi", concat=mode, ref=9) == [Segment(b"hi", 0, 0, 1, 1)]


def test_payload_mode_one_wire_segment_reports_billing_count() -> None:
    text = "a" * 300 + "€"
    [segment] = split_message(text, concat="payload")
    assert segment.short_message == b""
    assert segment.esm_class == 0
    assert (segment.index, segment.total) == (1, 1)
    assert segment.billable_segments == analyse(text).segments == 2
    assert segment.optional_params == {"message_payload": b"a" * 300 + b"\x1b\x65"}
    [short] = split_message("hi", concat="payload")
    assert short.optional_params == {"message_payload": b"hi"}
    assert short.billable_segments == 1


def test_unknown_concat_mode_is_rejected() -> None:
    with pytest.raises(EncodingError, match="unknown concat mode"):
        split_message("hi", concat="udh9")
    with pytest.raises(EncodingError, match="unknown concat mode"):
        analyse("hi", concat="udh9")


def test_more_than_255_parts_is_rejected_but_analyse_still_counts() -> None:
    text = "a" * (153 * 255 + 1)
    assert analyse(text).segments == 256
    with pytest.raises(EncodingError, match="at most 255"):
        split_message(text)
    with pytest.raises(EncodingError, match="at most 255"):
        split_message(text, concat="payload")
    assert len(split_message("a" * (153 * 255))) == 255


def test_lone_surrogate_is_an_encoding_error() -> None:
    with pytest.raises(EncodingError, match="lone surrogate U\\+D83D at position 2"):
        analyse("ab\ud83d")
    with pytest.raises(EncodingError):
        split_message("\ude00")


# --- inbound decoding ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "data_coding", "text"),
    [
        (b"Hello", 1, "Hello"),
        (b"caf\xe9", 3, "café"),
        (b"caf\xe9", 0xF7, "café"),  # message class, 8-bit
        (bytes.fromhex("d83dde00"), 8, "😀"),
        (bytes.fromhex("0436"), 0x18, "ж"),  # GSM DCS: UCS-2 with message class
        (bytes.fromhex("1b65"), 0xF0, "€"),  # flash SMS, GSM
        (b"\xff", 0x09, "ÿ"),  # unknown → latin-1
        (b"\x80", 1, "\ufffd"),  # not ASCII → replacement
        (b"\x00\x41\x00", 8, "A\ufffd"),  # odd UCS-2 length
        (b"\x1b\x1b", 0, " "),  # ESC ESC shows a space
        (b"\x1b\x41", 0, "A"),  # ESC + unknown shows the basic char
        (b"ab\x1b", 0, "ab"),  # escape split by another sender: dropped
        (b"\x90", 0, "\ufffd"),
    ],
)
def test_decode_inbound(data: bytes, data_coding: int, text: str) -> None:
    assert decode(data, data_coding) == text


def test_decode_strips_udh() -> None:
    assert decode(bytes.fromhex("050003010201") + b"Hi", 0, has_udh=True) == "Hi"
    assert decode(bytes.fromhex("0608040001020100410042"), 8, has_udh=True) == "AB"


@pytest.mark.parametrize("data", [b"", b"\x05\x00\x03"])
def test_decode_malformed_udh_is_an_error(data: bytes) -> None:
    with pytest.raises(EncodingError):
        decode(data, 0, has_udh=True)


def test_gsm_tables_round_trip_every_character() -> None:
    for char in GSM_CHARS:
        [segment] = split_message(char)
        assert decode_gsm(segment.short_message) == char


# --- properties -----------------------------------------------------------------------

gsm_text = st.text(alphabet=st.sampled_from(GSM_CHARS), max_size=800)
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)
mixed_text = st.one_of(gsm_text, any_text, st.text(st.sampled_from(["a", "€", "😀", "ж"])))
modes = st.sampled_from(["udh8", "udh16", "sar", "payload"])


def check_round_trip_and_limits(text: str, mode: str) -> None:
    segments = split_message(text, concat=mode, ref=7)
    info = analyse(text, concat=mode)
    assert sum(s.billable_segments for s in segments) == info.segments
    if mode != "payload":
        assert len(segments) == info.segments
    assert decode(joined(segments), info.data_coding) == text
    for segment in segments:
        has_udh = bool(segment.esm_class & 0x40)
        if mode != "payload":
            assert decode(segment.short_message, segment.data_coding, has_udh=has_udh) in text
        if info.encoding == "UCS-2":
            assert len(segment.short_message) <= 140
        else:
            udh_septets = (len(segment.short_message) - len(payload(segment))) * 8
            udh_septets = -(-udh_septets // 7)
            # SAR parts get a 6-octet UDH from the SMSC: leave room for it.
            reserved = 7 if mode == "sar" and len(segments) > 1 else 0
            assert len(payload(segment)) + udh_septets + reserved <= 160


@settings(max_examples=300)
@given(text=gsm_text, mode=modes)
def test_property_gsm_round_trip_and_limits(text: str, mode: str) -> None:
    assert analyse(text).encoding == "GSM-7"
    check_round_trip_and_limits(text, mode)


@settings(max_examples=300)
@given(text=mixed_text, mode=modes)
def test_property_unicode_round_trip_and_limits(text: str, mode: str) -> None:
    check_round_trip_and_limits(text, mode)


@given(text=any_text)
def test_property_ucs2_chars_are_exactly_the_non_gsm_ones(text: str) -> None:
    info = analyse(text)
    expected = tuple(dict.fromkeys(c for c in text if c not in GSM_CHARS))
    assert info.ucs2_chars == expected
    assert info.encoding == ("UCS-2" if expected else "GSM-7")
