"""The checks behind the security settings: refuse to start on a weak secret, parse rates.

Called from ``config/settings.py`` (section "Security") while settings load, so a process
that would run insecurely stops before it serves anything, with a message that says which
variable to set and how. See docs/security.md.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from django.core.checks.security.base import SECRET_KEY_MIN_LENGTH, SECRET_KEY_MIN_UNIQUE_CHARACTERS
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from django.http import HttpRequest

#: Text that marks a key (or token) someone copied from an example instead of generating.
PLACEHOLDERS = ("change-me", "changeme", "change_me", "placeholder", "insecure", "example", "your-secret")
HOW_TO_GENERATE = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
METRICS_TOKEN_MIN_LENGTH = 16
_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def weak_secret(value: str, *, min_length: int = SECRET_KEY_MIN_LENGTH) -> str | None:
    """Why ``value`` is no secret (a placeholder, too short, too few characters), or None.

    The length and variety rules are Django's own (``check --deploy``'s security.W009), so
    what starts here also passes that check.
    """
    lowered = value.lower()
    if any(word in lowered for word in PLACEHOLDERS):
        return "is a placeholder"
    if len(value) < min_length:
        return f"is too short ({len(value)} characters, at least {min_length} needed)"
    if len(set(value)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"has fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters"
    return None


def secret_key(*, var_dir: Path, debug: bool, https: bool) -> str:
    """SECRET_KEY from the environment; for a local demo, one generated once under ``var_dir``.

    With DEBUG off a weak key (placeholder, short) refuses to start: it would let anyone
    forge sessions, password-reset links and signed values. With ``HTTPS=on`` (production)
    the key must come from the environment: a key generated into one machine's var/ would
    differ per container, logging people out whenever a request reaches another replica.
    A generated key changing on every start would log everyone out on each restart, so it
    is kept in ``var_dir/secret_key``.
    """
    given = os.environ.get("SECRET_KEY", "")
    if given:
        reason = weak_secret(given)
        if reason and not debug:
            raise ImproperlyConfigured(
                f"SECRET_KEY {reason}. Set SECRET_KEY to a long random value, for example the output of "
                f"{HOW_TO_GENERATE} (or unset it on a local machine, where a key is generated into "
                f"{var_dir / 'secret_key'})."
            )
        return given
    if https:
        raise ImproperlyConfigured(
            "HTTPS=on needs SECRET_KEY in the environment, the same for every web and worker process "
            f"(a generated key would differ per container). Generate one with {HOW_TO_GENERATE}."
        )
    path = var_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    key = path.read_text().strip()
    reason = weak_secret(key)
    if reason and not debug:
        raise ImproperlyConfigured(f"The key in {path} {reason}. Delete the file to have a new one generated.")
    return key


def require_metrics_token(token: str, *, https: bool) -> str:
    """METRICS_TOKEN, required in production: /metrics names campaigns and binds.

    Without ``HTTPS=on`` (a local or demo machine) an empty token leaves /metrics open.
    """
    if https and weak_secret(token, min_length=METRICS_TOKEN_MIN_LENGTH):
        raise ImproperlyConfigured(
            "HTTPS=on needs METRICS_TOKEN: /metrics shows campaign ids and bind names. Set METRICS_TOKEN to a "
            f"random string of at least {METRICS_TOKEN_MIN_LENGTH} characters (e.g. the output of "
            f"{HOW_TO_GENERATE}) and give it to Prometheus as the bearer token."
        )
    return token


def throttle_rate(name: str, default: str) -> str | None:
    """A DRF throttle rate from the environment ("100/minute"); "off" or empty turns it off.

    Checked here because DRF parses a rate only at the first request, where a typo would
    turn every API call into a 500.
    """
    raw = os.environ.get(name, default).strip().lower().replace(" ", "")
    if raw in ("", "off", "none"):
        return None
    if not _RATE.match(raw):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate: write requests/period, e.g. 100/minute (period: second, minute, "
            "hour or day), or off."
        )
    return raw


def client_ip(request: HttpRequest) -> str:
    """The client's address for the login lockout, read the way the API throttles read it.

    One rule for both (DRF's ``NUM_PROXIES``, from ``TRUSTED_PROXY_COUNT``): behind that many
    proxies the address comes from X-Forwarded-For, else it is the peer's (REMOTE_ADDR), so
    a client cannot pick a fresh address per attempt by sending the header itself.
    """
    from rest_framework.throttling import BaseThrottle

    return BaseThrottle().get_ident(request)


HOW_TO_GENERATE_FERNET = "python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


def secrets_keys(*, secret_key: str, debug: bool, derive: bool) -> list[str]:
    """SECRETS_KEYS: the Fernet keys that encrypt the secrets stored in the database.

    Comma-separated; the first encrypts, every one decrypts, so a key is rotated by putting
    a new one first, running ``manage.py rotate_secrets_key``, then dropping the old one.
    Each must be a Fernet key (32 random bytes, URL-safe base64): a typo refuses to start
    here rather than on the first account saved.

    Unset, a key is derived from SECRET_KEY (HKDF-SHA256) only where ``derive`` is true: with
    DEBUG on, or on a local machine whose SECRET_KEY was generated into var/ (the demo and
    the tests). There the database's secrets are as safe as var/ is. Anywhere else (DEBUG
    off and SECRET_KEY from the environment, or HTTPS=on) it refuses to start: a key derived
    from SECRET_KEY would tie the database's secrets to the signing key, and changing that
    key would make every stored password unreadable.
    """
    from cryptography.fernet import Fernet

    keys = [item.strip() for item in os.environ.get("SECRETS_KEYS", "").split(",") if item.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"SECRETS_KEYS: key {position} of {len(keys)} is not a Fernet key (32 bytes in URL-safe base64, "
                f"44 characters). Generate one with {HOW_TO_GENERATE_FERNET}."
            ) from None
    if keys:
        return keys
    if debug or derive:
        return [derived_fernet_key(secret_key)]
    raise ImproperlyConfigured(
        "SECRETS_KEYS is not set: it encrypts the SMPP passwords and MM4 keys stored in the database. "
        f"Set SECRETS_KEYS to a Fernet key, the same for every web and worker process: {HOW_TO_GENERATE_FERNET} "
        "(rotation: put a new key first, keep the old one after a comma, run manage.py rotate_secrets_key)."
    )


def derived_fernet_key(secret_key: str) -> str:
    """A Fernet key derived from SECRET_KEY, for the demo and the tests (see ``secrets_keys``)."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"campaign-dispatch secrets at rest")
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode())).decode()
