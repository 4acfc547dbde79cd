"""What a provider sends, made storable: no answer from an SMSC or MMSC may fail a write.

The recording of submit answers and receipts runs one transaction per chunk or group: a
single value the database refuses (a NUL byte in text, a message id longer than its
column, a status code beyond a 32-bit integer) would fail every other answer with it, leave
accepted messages without their ids, or make the SMSC resend the same receipts forever.
So every value from the wire passes through here before it is written, and a value that
cannot be kept as it is becomes a clear error on its own row instead.
"""

from __future__ import annotations

from campaigns.models import PROVIDER_ID_MAX_LENGTH

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # an IntegerField column (error_code)


def storable_text(value: str | None, max_length: int | None = None) -> str:
    """``value`` without NUL characters (PostgreSQL text cannot hold them), cut to ``max_length``."""
    text = (value or "").replace("\x00", "")
    return text[:max_length] if max_length is not None else text


def storable_int(value: int | None) -> int | None:
    """``value`` when an integer column holds it, else None: SMPP's command_status is an
    unsigned 32-bit field and receipt err texts are free-form digits."""
    if value is None or not INT_MIN <= value <= INT_MAX:
        return None
    return value


def provider_id_problem(provider_id: str | None) -> str | None:
    """Why a normalised provider id cannot be stored for matching, or None when it can.

    SMPP 3.4 gives a message_id at most 64 characters (a 65-octet C-Octet String); ids up to
    ``PROVIDER_ID_MAX_LENGTH`` are kept all the same. A longer one is a protocol error: a
    cut id could match another message's receipts, so it is not stored at all.
    """
    if provider_id is not None and len(provider_id) > PROVIDER_ID_MAX_LENGTH:
        return (
            f"protocol error: the provider's message id is too long ({len(provider_id)} characters, at most "
            f"{PROVIDER_ID_MAX_LENGTH} are kept), so its receipts cannot be matched: {provider_id[:60]!r}…"
        )
    return None
