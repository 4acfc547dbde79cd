"""A model field whose value is encrypted in the database (Fernet, keys from SECRETS_KEYS).

The SMPP password, the MM4 API key and the MM4 inbound password must be readable by the
workers, so they cannot be hashed; encrypted, a copy of the database (a backup, a replica, a
leaked dump) holds no usable credential without the key, which lives only in the
environment (docs/security.md). Python code sees the plaintext: the field encrypts on every
write (save, ``update()``, ``bulk_update``) and decrypts on every load.

- The first key of ``settings.SECRETS_KEYS`` encrypts, every key decrypts (MultiFernet):
  rotate by putting a new key first and running ``manage.py rotate_secrets_key``.
- ``max_length`` bounds the *plaintext* (the SMPP password's 8 characters); the column is
  text, as the ciphertext is longer and its length does not matter.
- An empty value stays empty, so "not set" is still ``""``.
- Fernet is randomised (the same password encrypts differently each time), so the database
  cannot compare values: the only lookups are ``isnull`` and ``exact`` with ``""``. Anything
  else is a FieldError instead of a query that silently matches nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.lookups import Exact, IsNull


class SecretDecryptionError(ImproperlyConfigured):
    """A stored secret that no key in SECRETS_KEYS opens: the key that wrote it is missing."""


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    """The MultiFernet of the current ``settings.SECRETS_KEYS`` (read each call, cached)."""
    keys = tuple(settings.SECRETS_KEYS)
    if not keys:
        raise ImproperlyConfigured("SECRETS_KEYS is empty: no key to encrypt secrets with (docs/security.md).")
    return _fernet(keys)


def encrypt(plaintext: str) -> str:
    """``plaintext`` encrypted under the first key ("" stays "")."""
    return fernet().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(token: str, *, where: str = "a secret") -> str:
    """The plaintext of ``token``, or SecretDecryptionError naming ``where`` and what to do."""
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretDecryptionError(
            f"{where} cannot be decrypted with any key in SECRETS_KEYS ({len(settings.SECRETS_KEYS)} given): "
            "the key that encrypted it is missing (rotated out too early, or another deployment's key). "
            "Put that key back after the current one in SECRETS_KEYS, then run manage.py rotate_secrets_key."
        ) from None


def is_encrypted(value: str) -> bool:
    """Whether ``value`` is a token one of the current keys opens (the migration's test)."""
    try:
        fernet().decrypt(value.encode())
    except InvalidToken:
        return False
    return True


# Every Fernet token starts with its version byte 0x80 and a timestamp: "gAAAAA" in base64,
# and is at least 100 characters long (a 1-byte plaintext).
_TOKEN_PREFIX, _TOKEN_MIN_LENGTH = "gAAAAA", 100


class EncryptedTextField(models.TextField):
    """Text stored Fernet-encrypted; ``max_length`` bounds the plaintext (see the module)."""

    description = "Text encrypted at rest"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(MaxLengthValidator(self.max_length))

    def _where(self) -> str:
        model = getattr(self, "model", None)
        return f"{model.__name__}.{self.name}" if model is not None else self.name

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None else decrypt(value, where=self._where())

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"{self._where()} holds at most {self.max_length} characters, not {len(value)}.")
        return encrypt(value)

    def value_to_string(self, obj: Any) -> str:
        """What ``dumpdata`` (any serializer) writes: the ciphertext, never the plaintext, so
        a fixture or a dump is no more readable than the database it came from."""
        return encrypt(self.value_from_object(obj) or "")

    def to_python(self, value: Any) -> Any:
        """A serialized value (``loaddata``) arrives as the ciphertext ``value_to_string``
        wrote: opened here (and encrypted again on save). A token that no current key opens
        is refused, not taken for a password; anything else (a form's input) is plaintext."""
        value = super().to_python(value)
        if isinstance(value, str) and value.startswith(_TOKEN_PREFIX) and len(value) >= _TOKEN_MIN_LENGTH:
            return decrypt(value, where=self._where())  # SecretDecryptionError says which key is missing
        return value

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _NotSetExact
        if lookup_name == "isnull":
            return IsNull
        return None

    def get_transform(self, lookup_name: str) -> Any:
        return None


class _NotSetExact(Exact):
    """``field=""`` (is it set?) works; comparing a value cannot, the ciphertext is random."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None):
            raise FieldError(f"{self.lhs.target.name} is encrypted: it can only be compared with '' (not set).")
        return self.rhs

    def get_db_prep_lookup(self, value: Any, connection: Any) -> Any:
        return "%s", [value]
