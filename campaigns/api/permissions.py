"""API permissions: the same Django permissions (and so the same role groups) as the admin.

DRF's DjangoModelPermissions lets any authenticated user GET; here reading needs the
model's ``view_*`` permission too, so a viewer sees reports but not lists or accounts,
exactly as in the admin. Campaign actions need ``campaigns.send_campaign``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission, DjangoModelPermissions
from rest_framework.request import Request

SEND_CAMPAIGN = "campaigns.send_campaign"


class RolePermissions(DjangoModelPermissions):
    """Model permissions for every method, reads included."""

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }


class HasPermissions(BasePermission):
    """Requires a fixed set of permissions whatever the method (for actions and non-model views)."""

    required: tuple[str, ...] = ()

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(self.required))


def requires(*perms: str) -> type[HasPermissions]:
    """A permission class requiring ``perms``, e.g. ``requires("campaigns.send_campaign")``."""
    return type("Requires", (HasPermissions,), {"required": perms})
