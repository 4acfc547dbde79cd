"""Bind health (heartbeat rows, admin page, bind_health command) and /metrics output."""

from __future__ import annotations

import json
import uuid
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse
from prometheus_client import REGISTRY, generate_latest

from campaigns.models import Receipt
from smpp_transport import worker
from smpp_transport.models import BindStatus
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import wait_until
from tests.factories import AccountFactory, MessageFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]


@pytest.fixture
def bound():
    system_id = f"h{uuid.uuid4().hex[:12]}"
    sim = SimulatorThread(SimulatorConfig(host="127.0.0.1", port=0, accounts={system_id: "pw"})).start()
    account = AccountFactory(system_id=system_id, smpp_password="pw", smpp_port=sim.port)
    worker.open_bind(system_id, "trx")
    yield account, sim
    worker.close_bind()
    sim.stop()


def test_heartbeat_row_admin_page_and_command(bound, admin_client) -> None:
    account, _ = bound
    wait_until(lambda: BindStatus.objects.filter(system_id=account.system_id, state="bound").exists(), timeout=15)
    status = BindStatus.objects.get(system_id=account.system_id)
    assert status.health == "bound" and status.mode == "trx" and status.smsc.endswith(str(account.smpp_port))
    page = admin_client.get(reverse("admin:smpp_transport_bindstatus_changelist")).content.decode()
    assert status.name in page and "bound" in page
    out = StringIO()
    call_command("bind_health", "--check", stdout=out)
    assert status.name in out.getvalue() and "bound" in out.getvalue()
    out = StringIO()
    call_command("bind_health", "--json", stdout=out)
    assert json.loads(out.getvalue().splitlines()[0])["health"] == "bound"


def test_bind_health_check_fails_for_an_account_without_a_bind() -> None:
    AccountFactory(system_id="lonely")
    with pytest.raises(CommandError, match="lonely"):
        call_command("bind_health", "--check", stdout=StringIO())


def test_bind_metrics_are_read_from_the_live_bind(bound) -> None:
    account, sim = bound
    text = generate_latest(REGISTRY).decode()
    assert 'smpp_bind_up{bind="' in text or "smpp_bind_up{" in text
    line = next(x for x in text.splitlines() if x.startswith("smpp_bind_up{") and account.system_id in x)
    assert line.endswith(" 1.0")
    assert "smpp_bind_window_in_use{" in text and "smpp_bind_reconnects_total{" in text


def test_web_metrics_show_campaigns_inbox_and_binds(client) -> None:
    message = MessageFactory(status="delivered")
    message.campaign.status = "running"
    message.campaign.save()
    Receipt.objects.create(account=message.campaign.account, provider_message_id="x", status="delivered")
    text = client.get("/metrics").content.decode()
    assert f'campaign_messages{{campaign="{message.campaign_id}",status="delivered"}} 1.0' in text
    assert 'receipt_inbox{state="pending"} 1.0' in text
    assert "receipt_apply_lag_seconds" in text


@override_settings(METRICS_TOKEN="s3cret")
def test_metrics_token(client) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


def test_a_bind_process_serves_its_own_metrics_on_its_port(monkeypatch) -> None:
    import urllib.request

    from tests.faults.private_services import free_port

    port = free_port()
    monkeypatch.setattr(settings, "SMPP_METRICS_PORT", str(port))
    system_id = f"m{uuid.uuid4().hex[:12]}"
    sim = SimulatorThread(SimulatorConfig(host="127.0.0.1", port=0, accounts={system_id: "pw"})).start()
    AccountFactory(system_id=system_id, smpp_password="pw", smpp_port=sim.port)
    worker.open_bind(system_id, "trx")
    try:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert any(line.startswith("smpp_bind_up{") and system_id in line for line in body.splitlines())
    finally:
        worker.close_bind()
        sim.stop()
