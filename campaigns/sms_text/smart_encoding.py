"""Smart encoding: characters that merely look like GSM characters, replaced by them.

A single curly quote pasted from a word processor turns a whole message into UCS-2: 70
characters per SMS instead of 160, so a 150-character text costs three segments instead
of one. This module replaces such look-alikes (curly quotes, dashes, Unicode spaces,
ellipsis, fullwidth forms, bullets, invisible format characters) by their GSM 03.38
equivalent. Pure: no Django, no sockets, like the rest of :mod:`campaigns.sms_text`.

What it never does:

- Touch a character outside :data:`SUBSTITUTIONS`. Letters with no faithful GSM form
  (Polish ``ł``, Cyrillic, Chinese, emoji, …) are never transliterated: that would change
  what the recipient reads.
- Add a segment. Twilio's smart encoding substitutes always; here a substitution is
  applied only when it pays (see :func:`explain`): the whole message must then fit GSM
  and cost no more segments than the original. A message that stays UCS-2 anyway (it
  also holds an emoji, say) is sent exactly as written: substituting there saves nothing,
  and ``…`` → ``...`` would even cost two units more. The check matters: the ellipsis
  is one UTF-16 unit but three septets, and an extension character (``[``, ``~``) two, so
  a text of many ellipses could take more GSM segments than UCS-2 ones; it is then kept.

Substitution is all or nothing per message: any character left outside GSM keeps the
message in UCS-2, so a partial substitution could never save a segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Final

from campaigns.sms_text.encoding import _PART_CAPACITY, _SINGLE_CAPACITY, GSM7, UCS2, TextAnalysis, analyse
from campaigns.sms_text.gsm_alphabet import CHAR_TO_SEPTETS

__all__ = ["SUBSTITUTIONS", "SmartEncoding", "explain", "smart_encode"]


def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    # Quotes and primes.
    for char in "\u2018\u2019\u201a\u201b\u2032\u2035\u02bc\u00b4\u0060":  # ‘ ’ ‚ ‛ ′ ‵ ʼ ´ `
        table[char] = "'"
    for char in "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb":  # “ ” „ ‟ ″ ‶ « »
        table[char] = '"'
    # Hyphens, dashes and minus signs.
    for char in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63":  # ‐ ‑ ‒ – — ― − ﹘ ﹣
        table[char] = "-"
    # Bullets.
    for char in "\u2022\u2023\u2043\u2219":  # • ‣ ⁃ ∙
        table[char] = "-"
    # Spaces: no-break, the typographic spaces, narrow no-break, medium mathematical, ideographic.
    for code in (0x00A0, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000):
        table[chr(code)] = " "
    # Line and paragraph separators.
    table["\u2028"] = "\n"
    table["\u2029"] = "\n"
    # Invisible format characters (soft hyphen, zero-width space, word joiner, BOM): they
    # show nothing, yet each one alone forces UCS-2.
    for char in "\u00ad\u200b\u2060\ufeff":
        table[char] = ""
    table["\u2026"] = "..."  # …
    table["\u203c"] = "!!"  # ‼
    table["\u2044"] = "/"  # ⁄ fraction slash
    table["\u2215"] = "/"  # ∕ division slash
    table["\u02c6"] = "^"  # ˆ
    table["\u02dc"] = "~"  # ˜
    table["\u2126"] = "\u03a9"  # Ω ohm sign → Greek capital omega
    table["\u2206"] = "\u0394"  # ∆ increment → Greek capital delta
    # Fullwidth ASCII (U+FF01–U+FF5E) → ASCII, where the ASCII character is GSM.
    for code in range(0xFF01, 0xFF5F):
        target = chr(code - 0xFEE0)
        if target in CHAR_TO_SEPTETS:
            table[chr(code)] = target
    bad = {
        char: out
        for char, out in table.items()
        if char in CHAR_TO_SEPTETS or any(c not in CHAR_TO_SEPTETS for c in out)
    }
    assert not bad, f"substitutions must map non-GSM characters to GSM text: {bad}"
    return table


SUBSTITUTIONS: Final = MappingProxyType(_table())
"""Every substitution smart encoding makes: a non-GSM character → GSM 03.38 text."""

_TRANSLATE: Final = str.maketrans(dict(SUBSTITUTIONS))


@dataclass(frozen=True)
class SmartEncoding:
    """What smart encoding does to one text, for the builder's preview.

    ``text`` is what goes out: the substituted text when ``applied``, else the original.
    ``replaced`` lists the distinct characters replaced (or that would be, when not
    applied) with their replacement and count, in order of first appearance. ``before``
    and ``after`` are the analyses of the original and of the text sent.
    """

    text: str
    applied: bool
    replaced: tuple[tuple[str, str, int], ...]
    before: TextAnalysis
    after: TextAnalysis
    why_not: str = ""

    @property
    def segments_saved(self) -> int:
        return self.before.segments - self.after.segments


def smart_encode(text: str, *, concat: str = "udh8") -> str:
    """The text to send for ``text`` with smart encoding on (unchanged unless it pays).

    Cheap for the usual case: a text with no character of the table is returned as is
    after one ``str.translate``; otherwise the decision is cached, since a campaign sends
    the same text (or a few personalised ones) many times.
    """
    candidate = text.translate(_TRANSLATE)
    if candidate == text:
        return text
    return _decide(text, candidate, concat)[0]


_GSM: Final = frozenset(CHAR_TO_SEPTETS)
_TWO_SEPTETS: Final = tuple(char for char, septets in CHAR_TO_SEPTETS.items() if len(septets) == 2)


@lru_cache(maxsize=4096)
def _decide(text: str, candidate: str, concat: str) -> tuple[str, str]:
    """(text to send, why the original is kept or "") for a text that has substitutions.

    Mostly decided without cutting either text into parts, which matters for personalised
    texts (each one new to the cache): a candidate that fits one GSM SMS can never cost
    more than the original."""
    if not _GSM.issuperset(candidate):
        return text, "the message needs UCS-2 anyway (it has characters with no GSM equivalent)"
    septets = len(candidate) + sum(candidate.count(char) for char in _TWO_SEPTETS)
    if septets <= _SINGLE_CAPACITY[GSM7]:
        return candidate, ""
    # Cheap bounds first: the original is all BMP (every character is GSM or in the table),
    # so it takes exactly ceil(n / part) UCS-2 parts; a GSM part closes with at least
    # part - 1 septets (an escape pair is never split), so the candidate takes at most
    # ceil(septets / (part - 1)) parts. Only when they overlap are both cut for real.
    units = len(text)
    ucs2 = 1 if units <= _SINGLE_CAPACITY[UCS2] else -(-units // _PART_CAPACITY[concat][UCS2])
    if -(-septets // (_PART_CAPACITY[concat][GSM7] - 1)) <= ucs2:
        return candidate, ""
    if analyse(candidate, concat=concat).segments > analyse(text, concat=concat).segments:
        return text, "the replacements would make the message longer in segments"
    return candidate, ""


def explain(text: str, *, concat: str = "udh8") -> SmartEncoding:
    """What smart encoding replaces in ``text``, whether it applies, and the segments before
    and after. Raises ``EncodingError`` like :func:`analyse` (a lone surrogate)."""
    before = analyse(text, concat=concat)
    counts: dict[str, int] = {}
    for char in text:
        if char in SUBSTITUTIONS:
            counts[char] = counts.get(char, 0) + 1
    replaced = tuple((char, SUBSTITUTIONS[char], n) for char, n in counts.items())
    if not replaced:
        return SmartEncoding(text, False, (), before, before)
    sent, why_not = _decide(text, text.translate(_TRANSLATE), concat)
    after = before if sent == text else analyse(sent, concat=concat)
    return SmartEncoding(sent, sent != text, replaced, before, after, why_not)
