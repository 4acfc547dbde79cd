"""The one list of secret fields, and the test of whether a query path reads one.

A secret is stored because something needs it (a worker logs in with the SMPP password, a
token authenticates a request) but is write-only for people: nobody may read it back,
directly or by asking questions about it. Filtering (``?smpp_password__startswith=n``),
ordering or searching on a secret answers such questions one character at a time, so the
admin (``campaigns.admin.base``) and the API (``campaigns.api.views.base``) refuse every
query path that reaches a secret, through relations too, and the tests walk this same list.

Our own models declare their secrets in a ``SECRET_FIELDS`` class attribute (see
``Account``); fields of other applications' models are listed in ``OTHER_APPS`` below.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db.models import Field, ForeignObjectRel, Model
from django.db.models.constants import LOOKUP_SEP

# Secrets of models we do not own, by model label (lower case).
OTHER_APPS: dict[str, tuple[str, ...]] = {
    "auth.user": ("password",),  # the password hash: an offline guess becomes possible
    # knox's own token model, were it used instead of ours (campaigns.ApiToken, KNOX_TOKEN_MODEL):
    # the token's digest and its first characters.
    "knox.authtoken": ("digest", "token_key"),
}


def secret_fields(model: type[Model]) -> frozenset[str]:
    """The names of ``model``'s secret fields (a proxy model has its concrete model's)."""
    concrete = model._meta.concrete_model or model
    own = getattr(concrete, "SECRET_FIELDS", ())
    return frozenset(own) | frozenset(OTHER_APPS.get(concrete._meta.label_lower, ()))


def models_with_secrets() -> dict[type[Model], frozenset[str]]:
    """Every installed model that has a secret, with its secret fields."""
    return {model: fields for model in apps.get_models() if (fields := secret_fields(model))}


def _compared_field(field: Field | ForeignObjectRel) -> tuple[type[Model], str] | None:
    """For a lookup that ends on a relation (``?auth_token=…``), the remote field compared."""
    remote = field.related_model
    if remote is None or isinstance(remote, str):
        return None
    try:
        target = None if field.many_to_many else field.target_field
    except (AttributeError, FieldError):  # a relation with several target fields
        target = None
    return remote, (target.name if target is not None and target.model is remote else remote._meta.pk.name)


def lookup_reads_secret(model: type[Model], lookup: str) -> bool:
    """Whether the ORM path ``lookup`` (``account__smpp_password__startswith``, ``o``'s
    field names, a search field) reads a secret of ``model`` or of a related model.

    A relation compared as a whole compares the remote primary key (or ``to_field``), so
    ``?auth_token=…`` on users is a lookup on the token's key (``auth_token__isnull``,
    whether there is one, is not). A leading ``-`` (ordering)
    and the admin's search prefixes (``^``, ``=``, ``@``) are ignored.
    """
    current: type[Model] = model
    parts = lookup.lstrip("-^=@").split(LOOKUP_SEP)
    for position, part in enumerate(parts):
        name = current._meta.pk.name if part == "pk" else part
        try:
            field = current._meta.get_field(name)
        except FieldDoesNotExist:
            return False  # a lookup or transform name: the path has ended
        if field.name in secret_fields(current):
            return True
        if not field.is_relation:
            return False
        compared = _compared_field(field)
        if compared is None:
            return False
        remote, remote_field = compared
        following = parts[position + 1] if position + 1 < len(parts) else None
        if following == "isnull":
            return False  # whether a related row exists says nothing about its secrets
        if following is None or not _is_field(remote, following):
            return remote_field in secret_fields(remote)
        current = remote
    return False


def _is_field(model: type[Model], name: str) -> bool:
    try:
        model._meta.get_field(model._meta.pk.name if name == "pk" else name)
    except FieldDoesNotExist:
        return False
    return True
