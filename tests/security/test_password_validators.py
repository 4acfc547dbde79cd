"""Django's full set of password validators, for every password set through Django (the
admin's user forms, `changepassword`, `createsuperuser`)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("short-Pw1", "too short. It must contain at least 12 characters"),
        ("password1234", "too common"),
        ("381946205738", "entirely numeric"),
        ("margaret.hamilton", "too similar to the username"),
    ],
)
def test_weak_passwords_are_refused_saying_why(password: str, says: str) -> None:
    user = User(username="margaret.hamilton", email="margaret@example.com")
    with pytest.raises(ValidationError) as caught:
        validate_password(password, user)
    assert any(says in message for message in caught.value.messages), caught.value.messages


def test_a_long_uncommon_password_is_accepted() -> None:
    validate_password("correct horse battery staple", User(username="margaret.hamilton"))


def test_the_admin_refuses_a_weak_password_for_a_new_user(admin_client) -> None:
    form = {"username": "newbie", "usable_password": "true", "password1": "password1234", "password2": "password1234"}
    response = admin_client.post("/admin/auth/user/add/", form)
    assert response.status_code == 200 and b"This password is too common." in response.content
    assert not User.objects.filter(username="newbie").exists()
    strong = {**form, "password1": "violet-kettle-orbit-42", "password2": "violet-kettle-orbit-42"}
    assert admin_client.post("/admin/auth/user/add/", strong).status_code == 302
    assert User.objects.get(username="newbie").check_password("violet-kettle-orbit-42")
