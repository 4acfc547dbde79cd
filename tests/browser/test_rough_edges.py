"""Issue 17's admin rough edges and cost, seen in a real Chromium (screenshots in
test-artifacts/browser/17-*.png): the landing page, MMS fields only for MMS, the builder's
estimated cost, the CSV mapping (no overlap, countries by name, mapped columns not offered
again), the account page's health and "Test connection" against the SMSC simulator, an MMS
thumbnail that loads, and the report's cost line."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.utils import timezone

from campaigns.models import CampaignMedia, CampaignStatus, Channel, Contact, Message, MessagePart, SegmentPrice
from campaigns.roles import sync_roles
from campaigns.statuses import MessageStatus as S
from smpp_transport.smsc import SimulatorConfig, SimulatorThread
from tests.factories import AccountFactory, CampaignFactory, RecipientListFactory
from tests.media_samples import png

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _login(page, url: str, role: str) -> None:
    sync_roles()
    user = User.objects.create_user(f"{role}1", password="Pa55word-long", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "Pa55word-long")
    page.click("input[type=submit]")


def test_marketer_sees_landing_builder_cost_and_mms_fields(live_server, page, shoot) -> None:
    from playwright.sync_api import expect

    cache.clear()  # today's volume is cached 30 s: an earlier test's figure must not answer here
    account = AccountFactory(name="Priced")
    SegmentPrice.objects.create(account=account, country="", price=Decimal("0.0400"), currency="EUR")
    lst = RecipientListFactory(name="Customers")
    Contact.objects.bulk_create(Contact(recipient_list=lst, phone=f"+4474001{i:05d}") for i in range(25))
    running = CampaignFactory(
        name="Running now", account=account, status=CampaignStatus.RUNNING, started_at=timezone.now()
    )
    now = timezone.now()
    for i, status in enumerate([S.DELIVERED] * 6 + [S.UNDELIVERED] + [S.PENDING] * 3):
        message = Message.objects.create(
            campaign=running,
            phone=f"+4474002{i:05d}",
            status=status,
            submitted_at=now if status != S.PENDING else None,
            reason="undelivered: the network could not deliver it" if status == S.UNDELIVERED else "",
        )
        if status != S.PENDING:
            MessagePart.objects.create(message=message, account=account, status=status)
    CampaignFactory(name="API send #1", account=account, status=CampaignStatus.RUNNING, is_single_send=True)
    _login(page, live_server.url, "marketer")

    expect(page.locator("#cd-landing-active")).to_contain_text("Running now")
    expect(page.locator("[data-figure=today-messages]")).to_have_text("7")
    expect(page.locator("#cd-landing-failures")).to_contain_text("the network could not deliver it")
    expect(page.locator("#content-main")).not_to_contain_text("Message parts")
    expect(page.locator("#user-tools")).not_to_contain_text("View site")
    assert page.locator("#cd-landing-active").inner_text().count("API send") == 0
    shoot("17-01-landing")

    page.goto(f"{live_server.url}/admin/campaigns/campaign/add/")
    expect(page.locator(".field-mms_subject")).to_be_hidden()  # SMS is the default channel
    page.select_option("#id_channel", "mms")
    expect(page.locator(".field-mms_subject")).to_be_visible()
    expect(page.locator("#media-group")).to_be_visible()
    expect(page.locator("label[for=id_mms_subject]")).to_contain_text("MMS subject")
    page.select_option("#id_channel", "sms")
    expect(page.locator(".field-mms_subject")).to_be_hidden()
    page.fill("#id_name", "Priced campaign")
    page.select_option("#id_account", label=str(account))
    page.get_by_label("Customers").check()
    page.fill("#id_body", "x" * 200)  # 2 SMS each
    expect(page.locator("#cd-preview [data-fact='Estimated cost']")).to_have_text("2.00 EUR")  # 25 × 2 × 0.04
    expect(page.locator("#cd-preview [data-fact='Segments per message']")).to_contain_text("characters per SMS")
    expect(page.locator("#cd-segment-help")).to_contain_text("A segment is one SMS")
    shoot("17-02-builder-cost-sms")

    page.goto(f"{live_server.url}/admin/campaigns/campaign/{running.pk}/report/")
    expect(page.locator("[data-figure=spent-cost]")).to_have_text("0.2800 EUR")  # 7 accepted × 0.04
    expect(page.locator("[data-figure=estimated-cost]")).to_have_text("0.4000 EUR")
    shoot("17-03-report-cost")

    page.goto(f"{live_server.url}/admin/campaigns/campaign/")
    expect(page.locator("#result_list")).to_contain_text("Running now")
    expect(page.locator("#result_list")).not_to_contain_text("API send")


def test_csv_mapping_has_no_overlap_and_names_countries(live_server, page, shoot, tmp_path) -> None:
    from playwright.sync_api import expect

    _login(page, live_server.url, "marketer")
    lst = RecipientListFactory(name="Import me")
    page.goto(f"{live_server.url}/admin/campaigns/recipientlist/{lst.pk}/change/")
    csv_path = tmp_path / "c.csv"
    csv_path.write_bytes(
        b"Mobile,First name,Last name,Town,Favourite colour,Loyalty tier\n07400100001,Ann,Smith,Leeds,red,gold\n"
    )
    page.click("a.cd-import-link")
    page.set_input_files("#id_file", str(csv_path))
    page.click("input[type=submit]")
    expect(page.locator("#id_phone")).to_have_value("Mobile")
    region = page.locator("#id_region option:checked")
    expect(region).to_have_text("United States (US)")  # PHONE_DEFAULT_REGION of the tests' settings
    boxes = page.locator("#id_attributes > div:visible")
    # The page's script hides the columns mapped to a field once it has run: wait for it
    # (the phone's column gone from the extras) before counting, or the count goes stale.
    expect(boxes.filter(has_text="Mobile")).to_have_count(0)
    labels = [boxes.nth(i).bounding_box() for i in range(boxes.count())]
    assert labels and all(a["y"] + a["height"] <= b["y"] + 0.5 for a, b in zip(labels, labels[1:], strict=False))
    offered = page.locator("#id_attributes > div:visible").all_inner_texts()
    assert not any(t.startswith("Mobile") for t in offered)  # mapped as the phone: not an extra
    page.select_option("#id_first_name", "Town")
    assert not any(t.startswith("Town") for t in page.locator("#id_attributes > div:visible").all_inner_texts())
    shoot("17-04-import-mapping")


def test_operator_account_health_and_test_connection(live_server, page, shoot) -> None:
    from playwright.sync_api import expect

    system_id = f"tc{uuid.uuid4().hex[:10]}"
    with SimulatorThread(SimulatorConfig(host="127.0.0.1", port=0, accounts={system_id: "tcpass"})) as sim:
        account = AccountFactory(name="Probe me", system_id=system_id, smpp_password="tcpass", smpp_port=sim.port)
        wrong = AccountFactory(
            name="Wrong pw", system_id=f"{system_id}x"[:15], smpp_password="nope", smpp_port=sim.port
        )
        _login(page, live_server.url, "operator")
        expect(page.locator("#content-main")).to_contain_text("Operations (internal)")
        page.goto(f"{live_server.url}/admin/campaigns/account/{account.pk}/change/")
        expect(page.locator("#cd-account-health")).to_contain_text("Bind health (SMPP)")
        expect(page.locator("#cd-account-health")).to_contain_text("MM4 health (MMS)")
        expect(page.locator("label[for=id_smpp_host]")).to_have_text("SMPP host:")
        page.click("button.cd-test-connection[data-channel=sms]")
        expect(page.locator(".messagelist")).to_contain_text(f"Bound to 127.0.0.1:{sim.port} as {system_id}")
        shoot("17-05-account-test-connection")
        page.goto(f"{live_server.url}/admin/campaigns/account/{wrong.pk}/change/")
        page.click("button.cd-test-connection[data-channel=sms]")
        expect(page.locator(".messagelist .error")).to_contain_text("refused the login")


def test_mms_thumbnail_loads_and_completed_media_are_locked(live_server, page, shoot) -> None:
    from playwright.sync_api import expect

    campaign = CampaignFactory(
        name="Picture",
        channel=Channel.MMS,
        status=CampaignStatus.COMPLETED,
        account=AccountFactory(mm4_host="mmsc.example"),
    )
    media = CampaignMedia(campaign=campaign, content_type="image/png", size=60, position=1)
    media.file.save("pic.png", ContentFile(png()), save=True)
    _login(page, live_server.url, "marketer")
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
    thumb = page.locator("img.cd-thumb")
    expect(thumb).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", thumb.element_handle())
    assert page.locator("#media-group input[type=file]").count() == 0
    response = page.request.get(f"{live_server.url}{media.file.url}")
    assert response.status == 200 and response.headers["content-type"] == "image/png"
    shoot("17-06-mms-thumbnail")

    draft = CampaignFactory(name="Picture draft", channel=Channel.MMS, account=campaign.account, body="Look!")
    picture = CampaignMedia(campaign=draft, content_type="image/png", size=60, position=1)
    picture.file.save("draft.png", ContentFile(png()), save=True)
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{draft.pk}/change/")
    in_preview = page.locator("#cd-preview img.cd-preview-image")
    expect(in_preview).to_be_visible()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", in_preview.element_handle())
    expect(page.locator("#media-group input[type=file]").first).to_be_attached()  # a draft's media stay editable
    page.locator("#cd-preview").screenshot(
        path=str(shoot("17-07-mms-preview").with_name("17-07-mms-preview-panel.png"))
    )
