"""Other applications' admins (Django's users and groups, DRF's tokens, django-axes' login
attempts), registered again with the guard.

Their own registrations let a superuser filter users by ``?password__startswith=`` (the
hash, ready for an offline guess) and listed every API token in clear. Here they get
``GuardedAdminMixin`` like every other admin, and the token list shows whose token it is
and when it was made, never the key. Tokens are made (and shown, once) by
``manage.py drf_create_token``; the admin can revoke them.
"""

from __future__ import annotations

from typing import Any

import axes.admin  # noqa: F401 - registers its admins now, so they are guarded below
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.http import HttpRequest
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from campaigns.admin.base import GuardedAdminMixin
from campaigns.roles import MARKETER, OPERATOR, VIEWER

ROLES = (OPERATOR, MARKETER, VIEWER)


class GuardedUserAdmin(GuardedAdminMixin, UserAdmin):
    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """A user given a role (operator, marketer, viewer) may log into the admin: the role
        makes them staff. Without it the user could not log in, and the login page said
        only "enter the correct username and password"."""
        super().save_related(request, form, formsets, change)
        user = form.instance
        if not user.is_staff and user.groups.filter(name__in=ROLES).exists():
            User.objects.filter(pk=user.pk).update(is_staff=True)
            user.is_staff = True
            messages.info(request, f"{user.get_username()} has a role, so may now log into the admin (staff).")


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
