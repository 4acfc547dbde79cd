"""End to end: a tracked campaign goes out through the bind workers to the SMSC simulator,
each SMS on the wire carries its own short link, and a click on it through a real
gunicorn process (as the Procfile runs the web app) lands in the stats."""

from __future__ import annotations

import http.client
import json
import re
import socket
import sys
import uuid

import pytest

from campaigns.models import Campaign, CampaignStatus, Click, Contact, ShortCode
from campaigns.roles import VIEWER
from campaigns.services import campaign_actions as actions
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.api.factories import TokenFactory, UserFactory
from tests.e2e.harness import Platform, wait_until
from tests.factories import AccountFactory, RecipientListFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

PASSWORD = "e2epass"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    conn.close()
    return response


def test_a_click_on_a_sent_short_link_through_gunicorn_lands_in_the_stats(tmp_path) -> None:
    system_id = f"e2e{uuid.uuid4().hex[:10]}"
    web_port = _free_port()
    link_domain = f"http://127.0.0.1:{web_port}"
    config = SimulatorConfig(
        host="127.0.0.1", port=0, accounts={system_id: PASSWORD}, rate_per_bind=50.0, dlr_delay_s=0.1,
        outcomes={"DELIVRD": 100}, seed=3,
    )  # fmt: skip
    platform = Platform(tmp_path, extra_env={"LINK_DOMAIN": link_domain})
    with SimulatorThread(config) as sim:
        try:
            account = AccountFactory(
                system_id=system_id, smpp_password=PASSWORD, smpp_port=sim.port, binds=1, rate_per_bind=50,
                source_addr="E2E", source_addr_ton=5, source_addr_npi=0,
            )  # fmt: skip
            lst = RecipientListFactory()
            Contact.objects.bulk_create(Contact(recipient_list=lst, phone=f"+4479111{i:05d}") for i in range(10))
            campaign = Campaign.objects.create(
                name="links e2e", account=account, track_links=True,
                body="Spring sale: https://shop.example.com/spring?utm_source=sms&utm_campaign=e2e (today only).",
            )  # fmt: skip
            campaign.recipient_lists.add(lst)
            platform.start_dispatch_worker()
            platform.start_bind_worker(system_id, 0)
            assert sim.wait_for_binds(1, timeout=60), platform.logs()
            platform.start_beat()
            platform.start(
                "web",
                [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{web_port}",
                 "--workers", "2", "--threads", "4"],
            )  # fmt: skip
            actions.send_now(campaign=campaign)

            def completed() -> bool:
                campaign.refresh_from_db()
                return campaign.status == CampaignStatus.COMPLETED

            wait_until(completed, timeout=180, what="the campaign to complete")
            wait_until(lambda: _listening(web_port), timeout=60, what="gunicorn to listen")
        except TimeoutError as exc:
            pytest.fail(f"{exc}\n{platform.logs()}")
        # Each SMS on the wire carries its own code on our link domain (GSM: ASCII letters as is).
        texts = [bytes.fromhex(r["short_message_hex"]).decode("latin-1") for r in sim.get_submits()]
        pattern = re.compile(rf"^Spring sale: {re.escape(link_domain)}/r/([0-9A-Za-z]{{8}}) \(today only\)\.$")
        codes = [pattern.match(text).group(1) for text in texts]  # type: ignore[union-attr]
        assert len(codes) == 10 and len(set(codes)) == 10, texts
        assert set(codes) == set(ShortCode.objects.filter(link__campaign=campaign).values_list("code", flat=True))

        try:
            response = _get(web_port, f"/r/{codes[0]}", **{"User-Agent": IPHONE})
            assert response.status == 302, response.body  # type: ignore[attr-defined]
            assert response.getheader("Location") == "https://shop.example.com/spring?utm_source=sms&utm_campaign=e2e"
            assert response.getheader("Referrer-Policy") == "no-referrer"
            assert response.getheader("Cache-Control") == "no-store"
            assert _get(web_port, "/r/00000000").status == 404
            # The click is durable before the 302: it is in the database already.
            click = Click.objects.get(link__campaign=campaign)
            assert click.agent == "mobile"
            assert click.message_id == ShortCode.objects.get(code=codes[0]).message_id
            token = TokenFactory(user=UserFactory(role=VIEWER))
            stats = _get(web_port, f"/api/v1/campaigns/{campaign.id}/stats/", Authorization=f"Token {token.key}")
            assert stats.status == 200, stats.body  # type: ignore[attr-defined]
            clicks = json.loads(stats.body)["clicks"]  # type: ignore[attr-defined]
        finally:
            platform.stop()
    assert clicks["total"] == 1 and clicks["unique"] == 1
    assert clicks["click_through_rate"] == 0.1  # 1 of 10 delivered
    assert clicks["per_link"] == [
        {"url": "https://shop.example.com/spring?utm_source=sms&utm_campaign=e2e", "clicks": 1, "unique": 1}
    ]
