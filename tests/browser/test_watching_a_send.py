"""Watching a send in a real browser (issue 17): the report page of a running campaign shows
its figures moving (at least three distinct "sent" values, refreshed in place), the rate and
the ETA, then the completed state; a failed message's reason is in words on the page and in
the failures export. The campaign runs through the real beat, dispatch and bind workers
(``make run``'s processes) to the SMPP simulator; the system's Chromium drives the page.
"""

from __future__ import annotations

import csv
import io
import time
import uuid

import pytest
from django.contrib.auth.models import Group, User

from campaigns.models import Campaign, CampaignStatus, Contact
from campaigns.roles import sync_roles
from campaigns.services import campaign_actions
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import Platform
from tests.factories import AccountFactory, CampaignFactory, RecipientListFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

PASSWORD = "watchpw"  # SMPP passwords are at most 8 characters
RECIPIENTS = 240
CAP = 20  # messages a second: twelve seconds of sending, six polls of the page at least


@pytest.fixture
def simulator():
    system_id = f"wt{uuid.uuid4().hex[:10]}"
    config = SimulatorConfig(
        host="127.0.0.1",
        port=0,
        accounts={system_id: PASSWORD},
        rate_per_bind=50.0,
        dlr_delay_s=0.2,
        outcomes={"DELIVRD": 80, "UNDELIV": 10, "EXPIRED": 10},
        seed=5,
    )
    with SimulatorThread(config) as sim:
        yield system_id, sim


@pytest.fixture
def platform(tmp_path):
    p = Platform(tmp_path)
    yield p
    p.stop()


def test_the_report_moves_during_a_send_and_explains_failures(live_server, page, shoot, simulator, platform) -> None:
    from playwright.sync_api import expect

    system_id, sim = simulator
    account = AccountFactory(
        name="Simulated SMSC",
        system_id=system_id,
        smpp_password=PASSWORD,
        smpp_port=sim.port,
        binds=1,
        rate_per_bind=50,
        enquire_link_interval=5,
    )
    recipients = RecipientListFactory(name="Watchers")
    Contact.objects.bulk_create(
        Contact(recipient_list=recipients, phone=f"+4479112{i:05d}", first_name="Al") for i in range(RECIPIENTS)
    )
    campaign = CampaignFactory(
        name="Watched", account=account, body="Hi {{ first_name }}", send_rate=CAP, timezone="Europe/Paris"
    )
    campaign.recipient_lists.add(recipients)
    sync_roles()
    user = User.objects.create_user("watcher", password="watch-Pa55word", is_staff=True)
    user.groups.add(Group.objects.get(name="marketer"))
    platform.start_dispatch_worker()
    platform.start_bind_worker(system_id, 0)
    url = live_server.url

    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", "watcher")
    page.fill("#id_password", "watch-Pa55word")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("watcher")

    campaign_actions.send_now(campaign=campaign)
    platform.start_beat()
    page.goto(f"{url}/admin/campaigns/campaign/{campaign.pk}/report/")
    expect(page.locator(".cd-report")).to_have_attribute("data-live", "1")

    sent_values: set[str] = set()
    rates: set[str] = set()
    etas: set[str] = set()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if "fresh=1" in page.url:  # completed: the page reloaded itself once, exact figures
            break
        try:
            sent_values.add(page.locator("[data-live-figure=sent]").inner_text(timeout=2000))
            rates.add(page.locator("[data-live-figure=rate]").inner_text(timeout=2000))
            etas.add(page.locator("[data-live-figure=eta]").inner_text(timeout=2000))
        except Exception:  # noqa: BLE001 - the page is reloading into its final state
            pass
        if len(sent_values) == 3:
            shoot("20-report-while-sending")
        time.sleep(0.5)
    assert len(sent_values) >= 3, f"the sent figure did not move in place: {sorted(sent_values)}"
    assert any("msg/s" in r for r in rates), rates
    assert any(e not in ("–", "0 s") for e in etas), etas

    expect(page.locator(".cd-subtitle .cd-badge")).to_have_text("Completed", timeout=120_000)
    expect(page.locator(".cd-report")).to_have_attribute("data-live", "0")
    expect(page.locator("[data-live-figure=sent]")).to_have_text(f"{RECIPIENTS:,}")
    failures = page.locator("#cd-failure-table")
    expect(failures).to_contain_text("the network could not deliver it")
    expect(failures).to_contain_text("expired: the phone was unreachable for the validity period")
    expect(page.locator("#cd-breakdown")).to_have_attribute("data-ready", "1")
    expect(page.locator("#cd-country-table")).to_contain_text("United Kingdom")
    shoot("21-report-completed")
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.COMPLETED

    export = page.request.get(url + page.locator("a.cd-export-failures").get_attribute("href"))
    assert export.ok
    rows = list(csv.DictReader(io.StringIO(export.text().lstrip("\ufeff"))))
    assert rows and all(r["reason"] for r in rows)
    assert {r["reason"] for r in rows if r["status"] == "expired"} == {
        "expired: the phone was unreachable for the validity period"
    }
