"""What every admin page shares: no question about a secret, no NUL reaching the database,
and a clean 404 for an id that is not one.

Every ``ModelAdmin`` registered on the site mixes in ``GuardedAdminMixin`` (the check
``campaigns.E900`` fails otherwise; Django's own User, Group and token admins are registered
again with it in ``campaigns.admin.third_party``):

- A changelist lookup, ``_to_field``, search or filter that reaches a secret field
  (``campaigns.secret_fields``), directly or through relations, is refused the way Django
  refuses any disallowed lookup: ``DisallowedModelAdminLookup``, a 400. Without it
  ``?smpp_password__startswith=n`` answered "1 account" or "0 accounts".
- A NUL character anywhere in a changelist's query string is a 400: PostgreSQL refuses NUL
  in text, which turned a typed or pasted ``%00`` into a 500 (so is ``__range``, which the
  admin cannot pass to the database either), and so is an action's selected id that is
  not an id.
- An object id with a NUL finds nothing (Django's "not found"), and ``object_or_404``
  turns an id that is not one (``/importjob/abc/report/``) into a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import BadRequest, ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict

from campaigns.secret_fields import lookup_reads_secret


def refuse_bad_query(query: QueryDict) -> None:
    """A 400 for a query string the database would turn into a 500: a NUL in a name or a
    value (PostgreSQL stores no NUL), or a ``__range`` lookup (the admin passes its value
    as one string, which the database cannot bind as two bounds; ``__gte``/``__lte`` work)."""
    for key, values in query.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            raise BadRequest("The query string contains a NUL character.")
        if key.endswith("__range"):
            raise BadRequest("Range lookups are not supported here: use __gte and __lte.")


def refuse_bad_ids(model: type[Model], ids: list[str]) -> None:
    """A 400 for an action's selected ids that are not ids of ``model`` (``abc``, a NUL):
    the admin would pass them to the database, which answers with a 500."""
    for value in ids:
        try:
            model._meta.pk.to_python(value)
        except ValidationError:
            raise BadRequest("A selected id is not an id.") from None
        if "\x00" in value:
            raise BadRequest("A selected id contains a NUL character.")


def object_or_404(queryset: QuerySet, object_id: Any) -> Model:
    """The row with primary key ``object_id``, or a 404 (also for an id that is not one, such
    as ``abc`` for a numeric key, which the database would refuse with a 500)."""
    try:
        pk = queryset.model._meta.pk.to_python(object_id)
        return queryset.get(pk=pk)
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404(f"No {queryset.model._meta.verbose_name} with id {str(object_id)[:40]!r}.") from None


class GuardedAdminMixin:
    """Mixed into every ModelAdmin of the site (see the module docstring)."""

    model: type[Model]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if lookup_reads_secret(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)  # type: ignore[misc]

    def to_field_allowed(self, request: HttpRequest, to_field: str) -> bool:
        # ``?_to_field=`` makes a popup changelist hand out that field's value for every row.
        if lookup_reads_secret(self.model, to_field):
            return False
        return super().to_field_allowed(request, to_field)  # type: ignore[misc]

    def get_search_fields(self, request: HttpRequest) -> Any:
        fields = super().get_search_fields(request)  # type: ignore[misc]
        return tuple(name for name in fields if not lookup_reads_secret(self.model, name))

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = super().get_list_filter(request)  # type: ignore[misc]
        return tuple(item for item in filters if not _filter_reads_secret(self.model, item))

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        # An id with a NUL (``/change/%00/``) is no id: for a text key (a username, a
        # session) the database would refuse it with a 500. None is Django's "not found".
        if "\x00" in str(object_id):
            return None
        return super().get_object(request, object_id, from_field)  # type: ignore[misc]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        refuse_bad_query(request.GET)
        if request.method == "POST":
            refuse_bad_ids(self.model, request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
        return super().changelist_view(request, extra_context)  # type: ignore[misc]


def _filter_reads_secret(model: type[Model], item: Any) -> bool:
    """A list_filter entry on a field path (``"account__name"``, ``("status", SomeFilter)``)."""
    name = item[0] if isinstance(item, (list, tuple)) else item
    return isinstance(name, str) and lookup_reads_secret(model, name)


class GuardedModelAdmin(GuardedAdminMixin, admin.ModelAdmin):
    """The base of the project's admin classes."""


__all__ = ["GuardedAdminMixin", "GuardedModelAdmin", "object_or_404", "refuse_bad_ids", "refuse_bad_query"]
