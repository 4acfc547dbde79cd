"""Phone numbers: one normalised form (E.164) everywhere, with errors people understand.

Marketers paste numbers in every format; lists overlap and opt-outs must match. Storing
exactly one form (``+447700900123``) makes dedupe and suppression plain equality.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from phonenumbers import NumberParseException, ValidationResult
from phonenumbers import timezone as number_timezone

from campaigns.errors import ApplicationError


class InvalidPhoneNumber(ApplicationError):
    """A number that cannot be sent to, with the reason in words."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"{raw!r} is not a valid phone number: {reason}", field="phone", code="invalid_phone")
        self.raw = raw
        self.reason = reason


_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code (write it as +<country code>…)",
    NumberParseException.NOT_A_NUMBER: "it does not look like a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_POSSIBLE_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong length for its country",
}


def parse_phone(raw: str, *, region: str | None = None) -> phonenumbers.PhoneNumber:
    """Parse and validate a number, raising :class:`InvalidPhoneNumber` with the reason."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber(raw or "", "it is empty")
    if text.startswith("00"):
        text = "+" + text[2:]
    region = (region or settings.PHONE_DEFAULT_REGION or "").upper() or None
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        raise InvalidPhoneNumber(raw, _PARSE_REASONS.get(exc.error_type, str(exc))) from None
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible not in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        raise InvalidPhoneNumber(raw, _POSSIBLE_REASONS.get(possible, "impossible number"))
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(raw, "no such number range in its country")
    return number


def normalise_phone(raw: str, *, region: str | None = None) -> str:
    """The E.164 form of ``raw`` (``+447700900123``), or :class:`InvalidPhoneNumber`."""
    return phonenumbers.format_number(parse_phone(raw, region=region), phonenumbers.PhoneNumberFormat.E164)


def phone_timezone(e164: str, *, fallback: str) -> str:
    """The recipient's time zone from the number; ``fallback`` when it spans several zones."""
    try:
        zones = number_timezone.time_zones_for_number(phonenumbers.parse(e164, None))
    except NumberParseException:
        return fallback
    zones = tuple(z for z in zones if z != "Etc/Unknown")
    if len(zones) == 1 or (zones and _same_offsets(zones)):
        return zones[0]
    return fallback


def _same_offsets(zones: tuple[str, ...]) -> bool:
    """True when the zones keep the same clock all year (e.g. London and Jersey)."""
    year = datetime.now(UTC).year
    probes = [datetime(year, month, 1, 12, tzinfo=UTC) for month in (1, 4, 7, 10)]
    offsets = {tuple(probe.astimezone(ZoneInfo(z)).utcoffset() for probe in probes) for z in zones}
    return len(offsets) == 1
