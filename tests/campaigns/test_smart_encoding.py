"""Golden vectors and properties for campaigns.sms_text.smart_encoding (pure, no Django)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.sms_text.encoding import analyse
from campaigns.sms_text.gsm_alphabet import BASIC_TABLE, CHAR_TO_SEPTETS, EXTENSION_TABLE
from campaigns.sms_text.smart_encoding import SUBSTITUTIONS, explain, smart_encode

GSM_CHARS = [c for c in BASIC_TABLE if c != "\x1b"] + list(EXTENSION_TABLE)


@pytest.mark.parametrize(
    ("text", "sent"),
    [
        ("It\u2019s", "It's"),
        ("\u2018a\u2019 \u201ab\u201b", "'a' 'b'"),
        ("\u201cHi\u201d \u201eyo\u201f", '"Hi" "yo"'),
        ("5\u2032 11\u2033", "5' 11\""),
        ("\u00abBonjour\u00bb", '"Bonjour"'),
        ("a\u2013b\u2014c\u2212d\u2010e\u2011f\u2012g\u2015h", "a-b-c-d-e-f-g-h"),
        ("wait\u2026", "wait..."),
        ("\u2022 one \u2023 two", "- one - two"),
        (
            "a\u00a0b\u2000c\u2001d\u2002e\u2003f\u2004g\u2005h\u2006i\u2007j\u2008k\u2009l\u200am",
            "a b c d e f g h i j k l m",
        ),
        ("a\u202fb\u205fc\u3000d", "a b c d"),
        ("\uff28\uff49\uff01 \uff11\uff12\uff13", "Hi! 123"),
        ("\uff5b\uff3b\uff5e\uff5d", "{[~}"),  # fullwidth → extension characters (2 septets each)
        ("so\u00adft\u200bzero\ufeff", "softzero"),
        ("line\u2028next", "line\nnext"),
        ("\u203c 1\u20442", "!! 1/2"),
        ("\u2126 \u2206", "Ω Δ"),
        ("don`t", "don't"),
    ],
)
def test_golden_substitutions(text: str, sent: str) -> None:
    assert smart_encode(text) == sent
    assert analyse(sent).encoding == "GSM-7"


@pytest.mark.parametrize(
    "text",
    [
        "Zażółć gęślą jaźń",  # Polish: no faithful GSM form, and no look-alike is in the table
        "Привет, мир",
        "你好",
        "Hi 😀",
        "plain GSM text €[]",
        "",
    ],
)
def test_text_without_look_alikes_is_untouched(text: str) -> None:
    assert smart_encode(text) == text
    assert not explain(text).replaced


def test_table_maps_only_non_gsm_to_gsm() -> None:
    assert len(SUBSTITUTIONS) > 100
    for char, out in SUBSTITUTIONS.items():
        assert char not in CHAR_TO_SEPTETS, char
        assert all(c in CHAR_TO_SEPTETS for c in out), (char, out)
    assert "\uff40" not in SUBSTITUTIONS  # fullwidth backtick: ASCII ` is not GSM either
    assert "ł" not in SUBSTITUTIONS and "é" not in SUBSTITUTIONS


def test_message_that_stays_ucs2_is_sent_as_written() -> None:
    text = "It\u2019s party time \U0001f389\u2026"
    result = explain(text)
    assert result.text == text and not result.applied
    assert result.replaced == (("\u2019", "'", 1), ("\u2026", "...", 1))
    assert "UCS-2 anyway" in result.why_not


def test_ellipses_that_would_add_a_segment_are_kept() -> None:
    text = "\u2026" * 70  # 70 UCS-2 units: one SMS; 210 septets as "...": two
    assert analyse(text.replace("\u2026", "...")).segments == 2
    result = explain(text)
    assert result.text == text and not result.applied and result.segments_saved == 0
    assert "longer" in result.why_not


def test_explain_counts_segments_saved() -> None:
    text = "We\u2019re open \u2014 come by! " * 7  # 154 characters: 3 UCS-2 segments, 1 GSM
    result = explain(text)
    assert result.applied
    assert (result.before.segments, result.after.segments, result.segments_saved) == (3, 1, 2)
    assert result.replaced == (("\u2019", "'", 7), ("\u2014", "-", 7))


_NON_GSM = ["😀", "ł", "Ж", "中", "\u00e1", "\t", "\u2030"]
_ALPHABET = st.sampled_from(GSM_CHARS + list(SUBSTITUTIONS) + _NON_GSM)


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=400), st.sampled_from(["udh8", "udh16", "sar", "payload"]))
def test_property_never_adds_segments_and_touches_only_the_table(text: str, concat: str) -> None:
    sent = smart_encode(text, concat=concat)
    assert analyse(sent, concat=concat).segments <= analyse(text, concat=concat).segments
    # All or nothing, and only table characters change: every other character stays, in order.
    assert sent == text or sent == "".join(SUBSTITUTIONS.get(c, c) for c in text)
    if sent != text:
        assert analyse(sent, concat=concat).encoding == "GSM-7"
    assert explain(text, concat=concat).text == sent


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200).filter(lambda t: not any("\ud800" <= c <= "\udfff" for c in t)))
def test_property_any_unicode_text(text: str) -> None:
    sent = smart_encode(text)
    assert analyse(sent).segments <= analyse(text).segments
    assert sent == text or sent == "".join(SUBSTITUTIONS.get(c, c) for c in text)
    if not any(c in SUBSTITUTIONS for c in text):
        assert sent == text
