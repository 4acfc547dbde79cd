"""Tracked short links: find the URLs of a text, give each message its own codes.

Codes are made when a batch is claimed (campaigns/services/claims.py), right after the
bodies are personalised, because only then does each message have its text (a URL may be
personalised too) and because a campaign cancelled half-way never pays for the codes of
messages it did not send. Per batch the work is set-based, whatever its size:

1. the batch's distinct URLs become the campaign's ``TrackedLink`` rows (one
   ``INSERT … ON CONFLICT DO NOTHING`` and one SELECT);
2. the codes the batch's messages already have are read (one SELECT: a message claimed
   again after a retry keeps the codes its first parts went out with);
3. the missing codes are drawn in Python from :mod:`secrets` and inserted in ONE
   ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING``; a code that
   collides with an existing one (about 5 in a billion at a million codes) is simply
   drawn again in a second statement.

Why Python and not ``gen_random_bytes`` in SQL: pgcrypto is an extension the platform's
database user may not be allowed to create, and the codes are needed in Python anyway to
write the bodies. The alphabet is base62 (case-sensitive), ``CODE_LENGTH`` characters:
62**8 ≈ 2**47.6 equally likely codes (rejection sampling keeps them uniform).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from campaigns.models import Campaign, ShortCode, TrackedLink
from campaigns.models.links import CODE_LENGTH
from campaigns.services.bulk_sql import member_of, quoted_table, values_source

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SPACE = len(ALPHABET) ** CODE_LENGTH
_RAW_BYTES = (_SPACE.bit_length() + 7) // 8
PLACEHOLDER_CODE = "x" * CODE_LENGTH  # the preview's and estimate's stand-in: same length
MAX_DRAWS = 5

# A candidate: the scheme, then anything up to white space or a character that cannot
# appear unescaped in a URL written in prose (quotes, angle brackets, backquote). The
# candidate is then trimmed of what prose puts after a link (see _trim).
_CANDIDATE = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?*…"
_PAIRS = {")": "(", "]": "[", "}": "{"}
_HOST = re.compile(r"^https?://[^/?#\s]*[A-Za-z0-9\]]", re.IGNORECASE)


def _trim(url: str) -> str:
    """Drop trailing punctuation, and a closing bracket the URL did not open:
    ``(see https://x.io/a_(b))`` keeps ``_(b)``, ``https://x.io/a).`` loses ``).``."""
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in _PAIRS and url.count(_PAIRS[last]) < url.count(last):
            url = url[:-1]
        else:
            break
    return url


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """Every http(s) URL of ``text`` as (start, end, url), in order."""
    found = []
    for match in _CANDIDATE.finditer(text):
        url = _trim(match.group(0))
        if _HOST.match(url):
            found.append((match.start(), match.start() + len(url), url))
    return found


def has_urls(text: str) -> bool:
    return bool(find_urls(text))


def short_url(code: str) -> str:
    return f"{settings.LINK_DOMAIN}/r/{code}"


def replace_urls(text: str, code_for: dict[str, str]) -> str:
    """``text`` with each URL replaced by the short link of its code (``code_for[url]``)."""
    out, at = [], 0
    for start, end, url in find_urls(text):
        out.append(text[at:start])
        out.append(short_url(code_for[url]))
        at = end
    out.append(text[at:])
    return "".join(out)


def preview_text(text: str) -> str:
    """The text as a tracked campaign sends it, with a placeholder code of the real length:
    what the builder shows and counts segments and cost on."""
    return replace_urls(text, {url: PLACEHOLDER_CODE for _, _, url in find_urls(text)})


def new_codes(count: int) -> list[str]:
    """``count`` random codes (uniform over the whole code space, from :mod:`secrets`)."""
    codes = []
    while len(codes) < count:
        raw = secrets.token_bytes(_RAW_BYTES * (count - len(codes)))
        for i in range(0, len(raw), _RAW_BYTES):
            value = int.from_bytes(raw[i : i + _RAW_BYTES], "big")
            if value >= _SPACE:
                continue  # rejection keeps every code equally likely
            digits = []
            for _ in range(CODE_LENGTH):
                value, digit = divmod(value, 62)
                digits.append(ALPHABET[digit])
            codes.append("".join(digits))
    return codes


def track_bodies(*, campaign: Campaign, bodies: Sequence[tuple[int, str]], now: datetime) -> list[tuple[int, str]]:
    """(message id, body) pairs with every URL replaced by the message's own short link.

    The same statements on PostgreSQL (rows as arrays through ``unnest``) and on SQLite
    (``make run``: rows as ``VALUES``, 5,000 per statement).
    """
    urls_of = {mid: [url for _, _, url in find_urls(body)] for mid, body in bodies}
    distinct = sorted({url for urls in urls_of.values() for url in urls})
    if not distinct:
        return list(bodies)
    link_ids = _link_ids(campaign.id, distinct, now)
    wanted = {(mid, link_ids[url]) for mid, urls in urls_of.items() for url in urls}
    codes = _existing_codes(sorted(mid for mid, urls in urls_of.items() if urls))
    missing = sorted(wanted - codes.keys())
    expires = now + timedelta(days=settings.LINK_CODE_TTL_DAYS) if settings.LINK_CODE_TTL_DAYS > 0 else None
    for _ in range(MAX_DRAWS):
        if not missing:
            break
        codes.update(_insert_codes(missing, new_codes(len(missing)), now, expires))
        missing = [pair for pair in missing if pair not in codes]
    if missing:
        raise RuntimeError(f"could not draw unique short codes for {len(missing)} links")
    return [
        (mid, replace_urls(body, {url: codes[(mid, link_ids[url])] for url in urls_of[mid]})) for mid, body in bodies
    ]


SQLITE_ROWS = 5000  # rows per statement on SQLite (VALUES: under its 32,766 parameters)


def _at(value: datetime | None) -> object:
    """A time as the backend stores it (SQLite: Django's naive UTC text; PostgreSQL: as is)."""
    return connection.ops.adapt_datetimefield_value(value) if value is not None else None


def _chunks(rows: list) -> list[list]:
    size = len(rows) if connection.vendor == "postgresql" else SQLITE_ROWS
    return [rows[i : i + size] for i in range(0, len(rows), max(size, 1))]


def _link_ids(campaign_id: int, urls: list[str], now: datetime) -> dict[str, int]:
    """The campaign's link id of each URL, made where missing (one INSERT, one SELECT)."""
    table = quoted_table(TrackedLink)
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for part in _chunks(urls):
            source, params = values_source([("url", "text")], [(url,) for url in part])
            cursor.execute(
                f"INSERT INTO {table} (campaign_id, url, created_at) SELECT %s, v.url, %s FROM {source} "
                "WHERE 1 = 1 ON CONFLICT (campaign_id, url) DO NOTHING",
                [campaign_id, _at(now), *params],
            )
            where, params = member_of("url", part, cast="text")
            cursor.execute(f"SELECT url, id FROM {table} WHERE campaign_id = %s AND {where}", [campaign_id, *params])
            found.update(cursor.fetchall())
    return found


def _existing_codes(message_ids: list[int]) -> dict[tuple[int, int], str]:
    codes: dict[tuple[int, int], str] = {}
    with connection.cursor() as cursor:
        for part in _chunks(message_ids):
            where, params = member_of("message_id", part)
            cursor.execute(f"SELECT message_id, link_id, code FROM {quoted_table(ShortCode)} WHERE {where}", params)
            codes.update({(mid, lid): code for mid, lid, code in cursor.fetchall()})
    return codes


def _insert_codes(
    pairs: list[tuple[int, int]], codes: list[str], now: datetime, expires: datetime | None
) -> dict[tuple[int, int], str]:
    """One INSERT for the whole batch (PostgreSQL; SQLite: per 5,000); returns the pairs that
    got their code (a pair whose code collided is left out and drawn again)."""
    rows = [(code, mid, lid) for code, (mid, lid) in zip(codes, pairs, strict=True)]
    inserted: dict[tuple[int, int], str] = {}
    with connection.cursor() as cursor:
        for part in _chunks(rows):
            source, params = values_source([("code", "text"), ("message_id", "bigint"), ("link_id", "bigint")], part)
            cursor.execute(
                f"INSERT INTO {quoted_table(ShortCode)} (code, message_id, link_id, created_at, expires_at) "
                f"SELECT v.code, v.message_id, v.link_id, %s, %s FROM {source} WHERE 1 = 1 "
                "ON CONFLICT DO NOTHING RETURNING message_id, link_id, code",
                [_at(now), _at(expires), *params],
            )
            inserted.update({(mid, lid): code for mid, lid, code in cursor.fetchall()})
    return inserted
