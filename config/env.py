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
