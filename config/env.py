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


def env_base_url(name: str, default: str) -> str:
    """An absolute http(s) base URL (scheme and host, optionally a path) without its trailing
    slash; ImproperlyConfigured naming the variable when it is not one, so a typo in a
    public link domain stops the start instead of going out in a million messages."""
    from urllib.parse import urlsplit

    from django.core.exceptions import ImproperlyConfigured

    raw = os.environ.get(name, default).strip().rstrip("/")
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(f"{name} must be an http(s) address such as https://s.example.com")
    return raw
