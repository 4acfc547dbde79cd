"""System checks: every admin is guarded, and none is configured to show, filter, order or
search on a secret (``manage.py check`` and the test suite run them).

- ``campaigns.E900``: a registered ModelAdmin without ``GuardedAdminMixin``.
- ``campaigns.E901``: ``list_display`` (a column, or the field it sorts by), ``list_filter``,
  ``search_fields``, ``ordering``, ``date_hierarchy`` or ``list_editable`` names a secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.core.checks import Error, register


def _configured_paths(model_admin: Any) -> Iterator[tuple[str, str]]:
    for item in model_admin.list_display:
        column = getattr(model_admin, item, None) if isinstance(item, str) else item
        order = getattr(column, "admin_order_field", None) or getattr(
            getattr(column, "fget", None), "admin_order_field", None
        )
        if isinstance(item, str) and column is None:
            yield "list_display", item
        if isinstance(order, str):
            yield "list_display", order
    for entry in model_admin.list_filter:
        name = entry[0] if isinstance(entry, (list, tuple)) else entry
        if isinstance(name, str):
            yield "list_filter", name
    for attribute in ("search_fields", "ordering", "list_editable"):
        for name in getattr(model_admin, attribute, None) or ():
            if isinstance(name, str):
                yield attribute, name
    if isinstance(model_admin.date_hierarchy, str):
        yield "date_hierarchy", model_admin.date_hierarchy


@register("security")
def check_admin_secrets(app_configs: Any = None, *, site: admin.AdminSite | None = None, **kwargs: Any) -> list[Error]:
    from campaigns.admin.base import GuardedAdminMixin
    from campaigns.secret_fields import lookup_reads_secret

    errors = []
    for model, model_admin in (site or admin.site)._registry.items():
        name = type(model_admin).__qualname__
        if not isinstance(model_admin, GuardedAdminMixin):
            errors.append(
                Error(
                    f"{name} (for {model._meta.label}) does not mix in GuardedAdminMixin.",
                    hint="Derive it from campaigns.admin.base.GuardedModelAdmin.",
                    obj=model_admin,
                    id="campaigns.E900",
                )
            )
        for attribute, path in _configured_paths(model_admin):
            if lookup_reads_secret(model, path):
                errors.append(
                    Error(
                        f"{name}.{attribute} uses the secret {path!r}.",
                        obj=model_admin,
                        hint="Secrets are write-only: never shown, filtered, ordered or searched.",
                        id="campaigns.E901",
                    )
                )
    return errors
