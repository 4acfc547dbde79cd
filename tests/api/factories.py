"""Users with a role, and their API tokens."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from campaigns.models import ApiToken
from campaigns.roles import ROLE_PERMISSIONS, codename


def role_group(role: str) -> Group:
    """The role's group, recreated from ROLE_PERMISSIONS when a transactional test flushed it."""
    group, created = Group.objects.get_or_create(name=role)
    if created:
        wanted = [codename(action, model) for model, actions in ROLE_PERMISSIONS[role].items() for action in actions]
        group.permissions.set(Permission.objects.filter(content_type__app_label="campaigns", codename__in=wanted))
    return group


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(role_group(extracted))


class TokenFactory(factory.django.DjangoModelFactory):
    """An API token; ``.key`` is the token in clear (the row keeps only its digest)."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class: type[ApiToken], *args: object, **kwargs: object) -> ApiToken:
        token, key = model_class.objects.create(*args, **kwargs)
        token.key = key
        return token
