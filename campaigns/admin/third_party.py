"""Other applications' admins (Django's users and groups, django-axes' login attempts),
registered again with the guard, and the API tokens' admin.

Their own registrations let a superuser filter users by ``?password__startswith=`` (the
hash, ready for an offline guess), and knox's token admin lists every token's digest. Here
they get ``GuardedAdminMixin`` like every other admin. API tokens (``ApiToken``, knox's
hashed tokens) are listed by whose they are, what for and when, never the digest or its
key prefix; "Add API token" makes one and shows it once, as ``manage.py create_api_token``
does. Deleting a token revokes it.
"""

from __future__ import annotations

from typing import Any

import axes.admin  # noqa: F401 - registers its admins now, so they are guarded below
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils import timezone

from campaigns.admin.base import GuardedAdminMixin, GuardedModelAdmin
from campaigns.models import ApiToken
from campaigns.roles import MARKETER, OPERATOR, VIEWER
from campaigns.services.api_tokens import assign_new_secret, default_expiry

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


class ApiTokenAdmin(GuardedModelAdmin):
    list_display = ("user", "label", "created", "expiry", "is_expired")
    search_fields = ("user__username", "label")
    raw_id_fields = ("user",)
    fields = ("user", "label", "created", "expiry")
    readonly_fields = ("created",)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        return ("user", "created") if obj is not None else ("created",)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().get_changeform_initial_data(request), "expiry": default_expiry()}

    @admin.display(boolean=True, description="expired")
    def is_expired(self, obj: ApiToken) -> bool:
        return obj.expiry is not None and obj.expiry <= timezone.now()

    def save_model(self, request: HttpRequest, obj: ApiToken, form: ModelForm, change: bool) -> None:
        secret = None if change else assign_new_secret(obj)
        super().save_model(request, obj, form, change)
        if secret is not None:
            self.message_user(
                request, f"The new API token (copy it now, it is not shown again): {secret}", messages.WARNING
            )


for model, model_admin in ((User, GuardedUserAdmin), (Group, GuardedGroupAdmin), (ApiToken, ApiTokenAdmin)):
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
