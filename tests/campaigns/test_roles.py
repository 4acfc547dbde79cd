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


def test_approver_approves_and_reads_but_changes_nothing() -> None:
    approver, marketer, operator = _codenames("approver"), _codenames("marketer"), _codenames("operator")
    assert {"approve_campaign", "view_campaign", "view_campaignevent", "view_segmentprice"} <= approver
    assert not {a for a in approver if a.split("_")[0] in ("add", "change", "delete")}
    assert "send_campaign" not in approver
    assert "approve_campaign" not in marketer | operator  # four eyes: the role is given on purpose
    assert "view_campaignevent" in marketer & operator
