"""Personalisation: variable substitution only, never template code.

A campaign body is written by marketers and rendered a million times; it must not be able
to run code, read settings or fail halfway through a campaign. So the only syntax is
``{{ name }}`` and ``{{ name|default:"fallback" }}``; anything else is left as typed and
reported by :func:`template_problems` when the campaign is saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TAG = re.compile(
    r"\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?:\|\s*default\s*:\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'))?\s*\}\}"
)
_ANY_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def render(template: str, context: Mapping[str, Any]) -> str:
    """Substitute ``{{ var }}`` tags from ``context``; a missing or empty value uses the default."""

    def substitute(match: re.Match[str]) -> str:
        value = context.get(match["name"])
        if value is None or value == "":
            return match["dq"] if match["dq"] is not None else (match["sq"] or "")
        return str(value)

    return _TAG.sub(substitute, template)


def recipient_context(*, first_name: str, last_name: str, attributes: Mapping[str, Any] | None) -> dict:
    """The variables a contact offers: its attributes, then first and last name on top."""
    context: dict[str, Any] = dict(attributes or {})
    context["first_name"] = first_name
    context["last_name"] = last_name
    return context


def template_variables(template: str) -> set[str]:
    """Names the template uses, for checking them against a list's columns."""
    return {m["name"] for m in _TAG.finditer(template)}


def variables_without_default(template: str) -> list[str]:
    """Names used at least once with no ``default``, in order of first use: the ones that
    come out empty (and leave a double space) for a recipient who lacks them."""
    return list(dict.fromkeys(m["name"] for m in _TAG.finditer(template) if m["dq"] is None and m["sq"] is None))


def missing_variables(template: str, context: Mapping[str, Any]) -> list[str]:
    """The variables without a default that ``context`` leaves empty (as :func:`render`
    decides: absent, ``None`` or ``""``)."""
    return [name for name in variables_without_default(template) if context.get(name) in (None, "")]


def template_problems(template: str) -> list[str]:
    """Tags that are not plain variable substitutions, with what is wrong."""
    problems = []
    for match in _ANY_TAG.finditer(template):
        if not _TAG.fullmatch(match.group(0)):
            problems.append(f'{match.group(0)!r} is not supported: use {{{{ name }}}} or {{{{ name|default:"text" }}}}')
    return problems


def has_variables(template: str) -> bool:
    return bool(_TAG.search(template))
