"""Which accounts cannot send, from the binds' heartbeat rows (smpp_transport.availability),
and the marks the heartbeat keeps for it."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Channel
from campaigns.services.routing import unavailable_accounts
from smpp_transport.availability import unavailable
from smpp_transport.health import RoutingMarks
from smpp_transport.models import BindStatus
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _bind(system_id: str, state: str, n: int = 0, **stats) -> BindStatus:
    return BindStatus.objects.create(
        name=f"{system_id}/trx@h:{n}",
        system_id=system_id,
        mode="trx",
        host="h",
        pid=n,
        smsc="x",
        state=state,
        stats=stats,
    )


def test_an_account_without_a_bound_bind_for_the_setting_cannot_send(settings) -> None:
    settings.ROUTE_UNBOUND_S = 30
    settings.ROUTE_THROTTLED_S = 60
    now = time.time()
    _bind("up", "bound", last_bound_at=now)
    _bind("flapping", "backoff", last_bound_at=now - 10)  # lost its bind 10 s ago: still counted
    _bind("down", "backoff", last_bound_at=now - 45)
    _bind("throttled", "bound", last_bound_at=now, throttled_since=now - 90)
    _bind("half", "bound", 1, last_bound_at=now, throttled_since=now - 90)
    _bind("half", "bound", 2, last_bound_at=now)
    gone = _bind("gone", "bound", last_bound_at=now - 100)
    BindStatus.objects.filter(id=gone.id).update(updated_at=timezone.now() - timedelta(minutes=5))
    why = unavailable(["up", "flapping", "down", "throttled", "half", "gone", "never"])
    assert set(why) == {"down", "throttled", "gone"}
    assert why["down"] == "no bound bind for 30 s" and "throttled" in why["throttled"]


def test_the_domain_asks_the_registered_transport_and_adds_its_own_reasons() -> None:
    now = time.time()
    ok, down = AccountFactory(), AccountFactory()
    stopped, inactive = AccountFactory(smpp_stopped_reason="bind refused: bad password"), AccountFactory(active=False)
    _bind(ok.system_id, "bound", last_bound_at=now)
    _bind(down.system_id, "connecting", last_bound_at=now - 3600)
    got = unavailable_accounts([ok, down, stopped, inactive], Channel.SMS)
    assert set(got) == {down.id, stopped.id, inactive.id}
    assert "bad password" in got[stopped.id] and "no bound bind" in got[down.id]


def test_the_heartbeat_marks_last_bound_and_throttled_since() -> None:
    marks = RoutingMarks()
    assert marks.marks("bound", {"throttles": 0, "responses": {"ESME_ROK": 5}}, 100.0) == {
        "last_bound_at": 100.0,
        "throttled_since": None,
    }
    throttled = marks.marks("bound", {"throttles": 3, "responses": {"ESME_ROK": 5}}, 105.0)
    assert throttled["throttled_since"] == 105.0
    assert marks.marks("bound", {"throttles": 9, "responses": {"ESME_ROK": 5}}, 110.0)["throttled_since"] == 105.0
    assert marks.marks("backoff", {"throttles": 9, "responses": {"ESME_ROK": 6}}, 115.0) == {
        "last_bound_at": 110.0,
        "throttled_since": None,
    }
