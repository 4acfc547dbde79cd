"""Reading settings from the environment: one parser per kind, shared by every settings module."""

from __future__ import annotations

import os


def env_bool(name: str, default: bool) -> bool:
    """Parse a boolean environment variable ("1", "true", "yes", "on" are true)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    """A comma-separated environment variable as a list, empty items dropped."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_credentials(name: str) -> dict[str, str]:
    """``user:password[,user:password...]`` as {user: password}; ImproperlyConfigured naming the
    variable and the entry's position (never its value: it holds passwords) when an entry has
    no user or no password. A password may hold ``:`` but not ``,``."""
    from django.core.exceptions import ImproperlyConfigured

    credentials: dict[str, str] = {}
    for position, entry in enumerate(env_list(name), start=1):
        user, sep, password = entry.partition(":")
        if not sep or not user.strip() or not password:
            raise ImproperlyConfigured(f"{name}: entry {position} is not user:password")
        credentials[user.strip()] = password
    return credentials


def env_count(name: str) -> int | None:
    """A non-negative whole number, or None when the variable is unset or empty (a feature
    that is off); ImproperlyConfigured naming the variable for anything else."""
    from django.core.exceptions import ImproperlyConfigured

    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number of 0 or more (or unset), not {raw!r}")
    return int(raw)
