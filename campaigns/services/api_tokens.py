"""Making API tokens: the one place a token exists in clear, for the moment it is shown.

The token is knox's (64 random hex characters); the row keeps its SHA-512 digest and its
first 15 characters (to find the row), never the token itself. New tokens last
``settings.API_TOKEN_TTL_S`` seconds (0 = until revoked) unless the caller says otherwise.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from knox.models import get_digest_token
from knox.settings import CONSTANTS

from campaigns.models import ApiToken

DEFAULT_TTL = object()


def default_expiry() -> datetime | None:
    """When a token made now expires by default (None: never)."""
    ttl = settings.API_TOKEN_TTL_S
    return timezone.now() + timedelta(seconds=ttl) if ttl else None


def assign_new_secret(token: ApiToken) -> str:
    """Give ``token`` (not yet saved) a fresh secret; returns it, to be shown once."""
    digest, secret = get_digest_token()
    token.digest = digest
    token.token_key = secret[: CONSTANTS.TOKEN_KEY_LENGTH]
    return secret


def create_api_token(
    *, user: AbstractBaseUser, label: str = "", expiry: datetime | None | object = DEFAULT_TTL
) -> tuple[ApiToken, str]:
    """A new token for ``user``: the saved row and the token in clear (show it, then forget it)."""
    token = ApiToken(user=user, label=label, expiry=default_expiry() if expiry is DEFAULT_TTL else expiry)
    secret = assign_new_secret(token)
    token.save()
    return token, secret
