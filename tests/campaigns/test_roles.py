"""The role groups exist after migrating, with the permissions each role needs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def _codenames(role: str) -> set[str]:
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


def test_operator_marketer_viewer() -> None:
    operator, marketer, viewer = _codenames("operator"), _codenames("marketer"), _codenames("viewer")
    assert {"change_account", "send_campaign", "delete_campaign"} <= operator
    assert {"send_campaign", "add_contact", "view_account"} <= marketer
    assert "change_account" not in marketer
    assert viewer == {"view_campaign", "view_message", "view_messagepart", "view_receipt"}
    assert "send_campaign" not in viewer
