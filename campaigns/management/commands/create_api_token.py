"""Make an API token for a user and print it, once: only its digest is stored (docs/api.md)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns.models import ApiToken
from campaigns.services.api_tokens import DEFAULT_TTL, create_api_token


class Command(BaseCommand):
    help = (
        "Make an API token for USERNAME and print it. It is shown only now: the database keeps a hash. "
        "Lasts API_TOKEN_TTL_S seconds (0 = until revoked) unless --ttl-s says otherwise."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--label", default="", help="what the token is for (shown in the admin)")
        parser.add_argument("--ttl-s", type=int, default=None, help="seconds until it expires; 0 = never")
        parser.add_argument("--revoke-others", action="store_true", help="delete the user's other tokens (rotation)")

    def handle(self, *args, **options) -> None:
        username = options["username"]
        try:
            user = get_user_model()._default_manager.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {username!r}: create it first (createsuperuser, or the admin).") from None
        ttl = options["ttl_s"]
        if ttl is not None and ttl < 0:
            raise CommandError("--ttl-s is a number of seconds, 0 for a token that lasts until revoked.")
        expiry = DEFAULT_TTL if ttl is None else (timezone.now() + timedelta(seconds=ttl) if ttl else None)
        if options["revoke_others"]:
            revoked, _ = ApiToken.objects.filter(user=user).delete()
            self.stderr.write(f"Revoked {revoked} other tokens of {username}.")
        token, secret = create_api_token(user=user, label=options["label"], expiry=expiry)
        until = f"expires {token.expiry:%Y-%m-%d %H:%M} UTC" if token.expiry else "lasts until revoked"
        self.stderr.write(f"API token for {username} ({until}); copy it now, it is not shown again:")
        self.stdout.write(secret)
