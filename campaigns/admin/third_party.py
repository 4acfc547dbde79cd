"""Other applications' admins (Django's users and groups, DRF's tokens, django-axes' login
attempts), registered again with the guard.

Their own registrations let a superuser filter users by ``?password__startswith=`` (the
hash, ready for an offline guess) and listed every API token in clear. Here they get
``GuardedAdminMixin`` like every other admin, and the token list shows whose token it is
and when it was made, never the key. Tokens are made (and shown, once) by
``manage.py drf_create_token``; the admin can revoke them.
"""

from __future__ import annotations

import axes.admin  # noqa: F401 - registers its admins now, so they are guarded below
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.http import HttpRequest
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from campaigns.admin.base import GuardedAdminMixin


class GuardedUserAdmin(GuardedAdminMixin, UserAdmin):
    pass


class GuardedGroupAdmin(GuardedAdminMixin, GroupAdmin):
    pass


class GuardedTokenAdmin(GuardedAdminMixin, TokenAdmin):
    list_display = ("user", "created")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the key would never be seen again: drf_create_token makes and shows it


for model, model_admin in ((User, GuardedUserAdmin), (Group, GuardedGroupAdmin), (TokenProxy, GuardedTokenAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)


def guard_every_admin() -> None:
    """Any other registered admin without the guard gets it mixed in (axes' login attempts,
    and whatever app is added later): a lookup on a secret is refused everywhere."""
    for model, model_admin in list(admin.site._registry.items()):
        if not isinstance(model_admin, GuardedAdminMixin):
            guarded = type(f"Guarded{type(model_admin).__name__}", (GuardedAdminMixin, type(model_admin)), {})
            admin.site.unregister(model)
            admin.site.register(model, guarded)


guard_every_admin()
