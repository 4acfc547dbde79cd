"""Token authentication: knox's hashed tokens, and a clean 401 for any header.

knox decodes the token as UTF-8 and hands it to the database as it is; a header byte that
is not UTF-8, or a NUL (PostgreSQL refuses it in text), would turn a bad token into a 500.
Here both are "Invalid token." like any other wrong token.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication
from rest_framework import exceptions


class ApiTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <token>``, checked against the stored digests (knox)."""

    def authenticate_credentials(self, token: bytes) -> Any:
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if "\x00" in text:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(token)
