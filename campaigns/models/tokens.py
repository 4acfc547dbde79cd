"""API tokens, stored as a hash (django-rest-knox), with an optional expiry.

A token is shown once, when it is made (``manage.py create_api_token``, or the admin's "Add
API token"); the database keeps knox's SHA-512 digest of it and its first 15 characters
(``token_key``, to find the row to compare), so a copy of the database authenticates no one.
This is knox's own token model (``KNOX_TOKEN_MODEL``) with an integer id instead of the
digest as primary key: the admin's URLs and lists name a token without showing its digest.
"""

from __future__ import annotations

from django.db import models
from knox.models import AbstractAuthToken
from knox.settings import CONSTANTS


class ApiToken(AbstractAuthToken):
    """One API token of one user (a user may have several, e.g. one per integration)."""

    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    label = models.CharField(
        max_length=100, blank=True, help_text="What the token is for, e.g. 'CRM sync'. Shown in the admin."
    )

    SECRET_FIELDS = ("digest", "token_key")

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    def __str__(self) -> str:
        made = f", created {self.created:%Y-%m-%d %H:%M}" if self.created else ""
        return f"API token of {self.user}{f' ({self.label})' if self.label else ''}{made}"

    def __repr__(self) -> str:
        return f"<ApiToken {self.pk} of user {self.user_id}>"
