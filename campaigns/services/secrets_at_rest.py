"""Re-encrypting the stored secrets under the first key of SECRETS_KEYS (key rotation).

Rotation: put a new Fernet key first in SECRETS_KEYS (the old one after it, so what it
wrote still opens), restart, run ``manage.py rotate_secrets_key``; once it reports every
value re-encrypted, drop the old key. Each model is rewritten in one transaction with its
rows locked, so a worker saving a new password at the same time waits instead of losing it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import transaction
from django.db.models import Model

from campaigns.fields import EncryptedTextField


@dataclass(frozen=True)
class Rotated:
    """What one model's rotation rewrote."""

    model: str
    rows: int
    values: int


def encrypted_fields() -> dict[type[Model], list[str]]:
    """Every installed model with encrypted fields, and their names."""
    found: dict[type[Model], list[str]] = {}
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found[model] = names
    return found


def rotate_secrets() -> list[Rotated]:
    """Decrypt every stored secret (with any key) and write it back under the first key.

    Raises SecretDecryptionError, naming the field, when a value opens with no key: nothing
    of that model is rewritten then (the transaction rolls back).
    """
    done = []
    for model, names in encrypted_fields().items():
        rows = values = 0
        with transaction.atomic():
            for row in model._default_manager.select_for_update().only(model._meta.pk.name, *names):
                current = {name: getattr(row, name) for name in names}
                set_values = {name: value for name, value in current.items() if value}
                if set_values:
                    model._default_manager.filter(pk=row.pk).update(**set_values)
                    rows += 1
                    values += len(set_values)
        done.append(Rotated(model=model._meta.label, rows=rows, values=values))
    return done
