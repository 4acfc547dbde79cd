"""Re-encrypt every stored secret under the first key of SECRETS_KEYS (docs/security.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from campaigns.fields import SecretDecryptionError
from campaigns.services.secrets_at_rest import rotate_secrets


class Command(BaseCommand):
    help = (
        "Re-encrypt the secrets stored in the database (SMPP passwords, MM4 keys) under the first key of "
        "SECRETS_KEYS. Run after putting a new key first; then the old keys can be removed."
    )

    def handle(self, *args, **options) -> None:
        try:
            done = rotate_secrets()
        except SecretDecryptionError as exc:
            raise CommandError(str(exc)) from None
        for rotated in done:
            self.stdout.write(f"{rotated.model}: {rotated.values} secrets in {rotated.rows} rows re-encrypted")
        self.stdout.write("Every stored secret is now encrypted under the first key of SECRETS_KEYS.")
