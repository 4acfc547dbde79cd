"""Country names for ISO codes, from the data phonenumbers already ships (no extra package).

Pickers show "United Kingdom (GB)", never a bare "GB"; the stored value stays the ISO code.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    """The English name of an ISO 3166 alpha-2 code ("GB" → "United Kingdom"); the code
    itself when phonenumbers has no name for it. The geocoder (~100 MB of data) is imported
    here, on first use, not with the module: every process (bind workers too) imports the
    admin, which imports this."""
    from phonenumbers.geocoder import _region_display_name

    return _region_display_name(code.upper(), "en") or code.upper()


@lru_cache(maxsize=1)
def country_choices() -> tuple[tuple[str, str], ...]:
    """Every country phonenumbers knows, as (code, "Name (code)"), sorted by name."""
    named = ((code, f"{country_name(code)} ({code})") for code in phonenumbers.SUPPORTED_REGIONS)
    return tuple(sorted(named, key=lambda item: item[1]))
