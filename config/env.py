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


def env_float(name: str, default: float) -> float:
    """A number of (e.g.) seconds from the environment; ValueError naming the variable if not one."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None


def env_count_per_days(name: str) -> str:
    """A rate like ``3/7`` (3 messages in 7 days), both parts positive whole numbers; empty
    when unset. Anything else stops the start-up with a clear message."""
    value = os.environ.get(name, "").strip()
    parts = value.split("/")
    if value and not (len(parts) == 2 and all(p.strip().isdigit() and int(p) > 0 for p in parts)):
        raise ValueError(f"{name} must look like 3/7 (3 messages in 7 days), not {value!r}")
    return value


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
