"""A marketer's day in a real browser: import a CSV with bad rows, build a campaign with its
preview, send it through the real processes to the SMSC simulator, watch it reach 100 %,
and read the delivery report; then send a test personalised as one recipient, resend to the
failed recipients from a draft that shows them, and schedule a new campaign before ever
saving it. Screenshots go to test-artifacts/browser/.

The import task is caught when the web request enqueues it and run here, by the test, while
the browser watches the job page poll (the test's Celery app and the platform's workers do
not share a broker on every setup); sending uses the real beat, dispatch and bind workers.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, User

from campaigns.models import Campaign, CampaignStatus, Contact, Message
from campaigns.roles import sync_roles
from campaigns.sms_text.encoding import decode
from campaigns.tasks_import import import_contacts_task
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.e2e.harness import Platform
from tests.factories import AccountFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

PASSWORD = "brwspass"
GOOD = ["Ann", "Bob", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ivy", "Jo"]


def _csv() -> bytes:
    rows = ["Mobile,First name,Last name,Town"]
    rows += [f"+4479111000{i:02d},{name},Smith,Leeds" for i, name in enumerate(GOOD)]
    rows += ["+44791,Short,Number,York", ",No,Phone,Hull", "+447911100003,Di,Again,Leeds"]
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture
def simulator():
    system_id = f"br{uuid.uuid4().hex[:10]}"
    config = SimulatorConfig(
        host="127.0.0.1",
        port=0,
        accounts={system_id: PASSWORD},
        rate_per_bind=50.0,
        dlr_delay_s=0.3,
        outcomes={"DELIVRD": 80, "UNDELIV": 20},
        seed=3,
    )
    with SimulatorThread(config) as sim:
        yield system_id, sim


@pytest.fixture
def platform(tmp_path):
    p = Platform(tmp_path)
    yield p
    p.stop()


@pytest.fixture
def queued_imports(monkeypatch) -> list[int]:
    """Job ids the web request enqueued, for the test to run as the worker would."""
    queued: list[int] = []
    monkeypatch.setattr(import_contacts_task, "delay", lambda job_id: queued.append(job_id))
    return queued


def _marketer() -> User:
    sync_roles()  # an earlier transactional test may have flushed the groups the migration made
    user = User.objects.create_user("mia", password="mia-Pa55word", is_staff=True)
    user.groups.add(Group.objects.get(name="marketer"))
    return user


def test_marketer_imports_builds_sends_and_reads_the_report(
    live_server, page, shoot, simulator, platform, queued_imports, tmp_path
) -> None:
    from playwright.sync_api import expect

    system_id, sim = simulator
    AccountFactory(
        name="Simulated SMSC",
        system_id=system_id,
        smpp_password=PASSWORD,
        smpp_port=sim.port,
        binds=1,
        rate_per_bind=50,
        source_addr="SALE",
        source_addr_ton=5,
        source_addr_npi=0,
        enquire_link_interval=5,
    )
    _marketer()
    platform.start_dispatch_worker()
    platform.start_bind_worker(system_id, 0)
    platform.start_beat()
    url = live_server.url

    # Log in.
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", "mia-Pa55word")
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("mia")

    # A new list, then its CSV import: upload, map, row report.
    page.goto(f"{url}/admin/campaigns/recipientlist/add/")
    page.fill("#id_name", "Spring customers")
    page.click("input[name=_continue]")
    page.click("a.cd-import-link")
    csv_path = tmp_path / "spring.csv"
    csv_path.write_bytes(_csv())
    page.set_input_files("#id_file", str(csv_path))
    page.click("input[type=submit]")
    expect(page.locator("#cd-sample")).to_contain_text("Ann")
    expect(page.locator("#id_phone")).to_have_value("Mobile")
    shoot("01-import-mapping")
    page.click("input[type=submit][value=Import]")
    expect(page.locator("[data-field=status_display]")).to_have_text("Waiting")
    assert len(queued_imports) == 1
    import_contacts_task.apply(args=queued_imports)  # the worker's part; the page polls and reloads
    report = page.locator("#cd-row-report")
    expect(report).to_contain_text("missing phone")
    expect(report).to_contain_text("invalid number")
    expect(report).to_contain_text("duplicate")
    expect(page.locator("[data-field=imported]")).to_have_text("10")
    shoot("02-import-row-report")
    assert Contact.objects.filter(recipient_list__name="Spring customers").count() == 10

    # Build the campaign and watch the preview.
    page.goto(f"{url}/admin/campaigns/campaign/add/")
    page.fill("#id_name", "Spring sale")
    page.select_option("#id_account", label=f"Simulated SMSC ({system_id})")
    page.get_by_label("Spring customers").check()
    page.fill("#id_body", "Hi {{ first_name }}, don’t miss our spring sale!")
    # Smart encoding (on by default) turns the curly apostrophe into ' and the text stays GSM.
    expect(page.locator("#cd-preview [data-fact=Encoding]")).to_have_text("GSM-7")
    expect(page.locator("#cd-smart-encoding")).to_contain_text("’ → '")
    expect(page.locator("#cd-preview .cd-bubble").first).to_have_text("Hi Ann, don't miss our spring sale!")
    page.uncheck("#id_smart_encoding")
    expect(page.locator("#cd-preview [data-fact=Encoding]")).to_have_text("UCS-2")
    expect(page.locator("#cd-ucs2-reason")).to_contain_text("U+2019")
    page.locator("#cd-preview").screenshot(path=str(shoot("03-builder-preview").with_name("03a-preview-ucs2.png")))
    page.check("#id_smart_encoding")
    # A variable nobody has: the builder says so before anything is sent.
    page.fill("#id_body", "Hi {{ first_name }}, the {{ shop }} sale starts now!")
    expect(page.locator("#cd-variable-warnings [data-variable=shop]")).to_contain_text(
        "No recipient has a value for shop: {{ shop }} will be empty for all 10"
    )
    page.locator("#cd-preview").screenshot(path=str(shoot("03-builder-preview").with_name("03b-preview-variables.png")))
    page.fill("#id_body", "Hi {{ first_name }}, our {{ town }} spring sale starts now in every store!")
    expect(page.locator("#cd-preview [data-fact=Encoding]")).to_have_text("GSM-7")
    expect(page.locator("#cd-preview .cd-bubble").first).to_have_text(
        "Hi Ann, our Leeds spring sale starts now in every store!"
    )
    expect(page.locator("#cd-variable-warnings")).to_have_count(0)
    expect(page.locator("#cd-preview [data-fact=Recipients]")).to_contain_text("10")
    expect(page.locator("#cd-preview [data-fact='Estimated duration']")).to_contain_text("at 50/s")
    shoot("03-builder-preview")
    page.click("input[name=_continue]")

    # Send now, against the simulator, and watch the bar reach 100 %.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[data-action=send_now]")
    expect(page.locator(".messagelist")).to_contain_text("Sending started")
    sent = page.locator("[data-progress-url] [data-figure=sent]")
    expect(sent).to_have_text("10 / 10 (100.0 %)", timeout=180_000)
    expect(page.locator(".cd-subtitle .cd-badge")).to_have_text("Completed", timeout=180_000)
    shoot("04-campaign-complete")
    campaign = Campaign.objects.get(name="Spring sale")
    assert campaign.status == CampaignStatus.COMPLETED
    assert len([r for r in sim.get_submits() if r["command_status"] == 0]) == 10

    # The list of campaigns shows the same bar.
    page.goto(f"{url}/admin/campaigns/campaign/")
    expect(page.locator(".cd-progress [data-figure=sent]").first).to_have_text("10 / 10 (100.0 %)")
    shoot("05-campaign-list")

    # The delivery report.
    page.goto(f"{url}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.click("a.cd-report-link")
    delivered = Message.objects.filter(campaign=campaign, status="delivered").count()
    expect(page.locator("#cd-status-table")).to_contain_text("Delivered")
    expect(page.locator("[data-figure=delivery-rate]")).to_have_text(re.compile(rf"^{delivered * 10}\.0 %$"))
    chart = page.locator("img.cd-chart")
    expect(chart).to_be_visible()
    page.wait_for_function("document.querySelector('img.cd-chart').complete")
    assert chart.evaluate("img => img.naturalWidth") > 0  # the SVG loaded and rendered
    shoot("06-delivery-report")

    # A test send, personalised as a chosen recipient (Bob), reaches the SMSC with his data.
    page.goto(f"{url}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.fill("#cd-test-phones", "+447911100999")
    bob = Contact.objects.get(recipient_list__name="Spring customers", first_name="Bob")
    page.select_option("#cd-test-contact", str(bob.pk))
    page.click(".cd-test-send button[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text(f"personalised as Bob Smith ({bob.phone})")
    shoot("07-test-send")
    assert sim.wait_for(lambda: _texts_to(sim, "+447911100999"), timeout=60)
    assert _texts_to(sim, "+447911100999") == ["Hi Bob, our Leeds spring sale starts now in every store!"]

    # Resend to failed: the draft shows exactly whom it sends to, and sends to exactly them.
    failed = sorted(Message.objects.filter(campaign=campaign, status="undelivered").values_list("phone", flat=True))
    assert failed, "the simulator's 20 % undelivered share gave no failure to resend"
    page.goto(f"{url}/admin/campaigns/campaign/{campaign.pk}/change/")
    page.click("button[data-action=resend_failed]")
    expect(page.locator(".messagelist")).to_contain_text("A new draft with the failed recipients was created")
    expect(page.locator("#cd-resend-of")).to_contain_text("Spring sale")
    expect(page.get_by_label("Spring sale: failed recipients")).to_be_checked()
    expect(page.locator("#cd-preview [data-fact=Recipients]")).to_have_text(f"{len(failed)} (before opt-outs)")
    expect(page.locator("#cd-preview .cd-sample-phone").first).to_have_text(failed[0])
    shoot("08-resend-draft")
    resend = Campaign.objects.get(resend_of=campaign)
    before = len(sim.get_submits())
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[data-action=send_now]")
    expect(page.locator(".cd-subtitle .cd-badge")).to_have_text("Completed", timeout=180_000)
    resent = sorted(r["destination_addr"] for r in sim.get_submits()[before:] if r["command_status"] == 0)
    assert resent == [p.lstrip("+") for p in failed] or resent == failed
    assert sorted(resend.messages.values_list("phone", flat=True)) == failed

    # Schedule before save: the time and zone just typed are saved and armed in one step.
    page.goto(f"{url}/admin/campaigns/campaign/add/")
    page.fill("#id_name", "Summer sale")
    page.select_option("#id_account", label=f"Simulated SMSC ({system_id})")
    page.get_by_label("Spring customers").check()
    page.fill("#id_body", "Hi {{ first_name }}, summer is here!")
    page.select_option("#id_timezone", "Europe/Paris")
    page.click("input[name=_schedule]")  # no time yet: said, and nothing typed is lost
    expect(page.locator(".field-scheduled_local .errorlist")).to_contain_text("Choose when to send")
    expect(page.locator("#id_name")).to_have_value("Summer sale")
    expect(page.locator("#id_timezone")).to_have_value("Europe/Paris")
    page.fill("#id_scheduled_local", "2031-07-01T09:30")
    page.click("input[name=_schedule]")
    expect(page.locator(".messagelist")).to_contain_text("Saved and scheduled for 2031-07-01 09:30 Europe/Paris")
    expect(page.locator(".cd-subtitle .cd-badge")).to_have_text("Scheduled")
    shoot("09-saved-and-scheduled")
    summer = Campaign.objects.get(name="Summer sale")
    assert summer.status == CampaignStatus.SCHEDULED
    assert summer.scheduled_at == datetime(2031, 7, 1, 7, 30, tzinfo=UTC)


def _texts_to(sim: SimulatorThread, phone: str) -> list[str]:
    """The texts the simulator accepted for one number (the bind sends E.164 with or without +)."""
    return [
        decode(bytes.fromhex(r["short_message_hex"]), r["data_coding"])
        for r in sim.get_submits()
        if r["command_status"] == 0 and r["destination_addr"].lstrip("+") == phone.lstrip("+")
    ]
