"""The Content-Security-Policy in a real Chromium: the admin, the campaign builder's script,
the delivery report and /api/docs/ work under it with no violation, and /api/docs/ renders
with every request outside this app refused (an offline machine).

Chromium reports each refused script, style or request on the console ("Refused to ...
because it violates the following Content Security Policy directive"); the test collects
every such line over all the pages and asserts there is none. Screenshots go to
test-artifacts/browser/.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from campaigns.models import CampaignStatus
from campaigns.roles import sync_roles
from smpp_transport.models import BindStatus
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, MessageFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

PASSWORD = "csp-Pa55word-long"


@pytest.fixture
def violations(page) -> list[str]:
    """Every CSP violation Chromium reports on the page's console, and page errors."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(f"{page.url}: {m.text}") if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    return seen


@pytest.fixture
def offline(page, live_server) -> list[str]:
    """Refuse every request that leaves the app (a CDN): the page must not need one."""
    own = urlparse(live_server.url).netloc
    refused: list[str] = []

    def route(route) -> None:
        if urlparse(route.request.url).netloc == own:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return refused


def _bind() -> BindStatus:
    return BindStatus.objects.create(
        name="cspsys-trx-0", system_id="cspsys", mode="trx", host="h", pid=1, smsc="s:1", state="bound"
    )


def _marketer() -> User:
    sync_roles()
    user = User.objects.create_user("cspuser", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="marketer"))
    return user


def test_admin_builder_report_and_api_docs_work_under_the_csp(live_server, page, shoot, violations, offline) -> None:
    from playwright.sync_api import expect

    _marketer()
    account = AccountFactory(name="CSP account", system_id="cspsys", rate_per_bind=50)
    contact = ContactFactory(first_name="Ann")
    running = CampaignFactory(account=account, name="Running one", status=CampaignStatus.RUNNING)
    running.recipient_lists.add(contact.recipient_list)
    now = timezone.now()
    MessageFactory.create_batch(3, campaign=running, status="delivered", submitted_at=now, done_at=now)
    MessageFactory(campaign=running, status="pending")
    _bind()
    url = live_server.url

    response = page.goto(f"{url}/admin/login/?next=/admin/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy and "unsafe-inline" not in policy
    page.fill("#id_username", "cspuser")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text("cspuser")

    # The builder: its script (static file) runs and its preview fetch (same origin) answers.
    page.goto(f"{url}/admin/campaigns/campaign/add/")
    page.select_option("#id_account", label="CSP account (cspsys)")
    page.get_by_label(contact.recipient_list.name).check()
    page.fill("#id_body", "Hi {{ first_name }}, our spring sale starts now!")
    expect(page.locator("#cd-preview [data-fact=Encoding]")).to_have_text("GSM-7")
    expect(page.locator("#cd-preview .cd-bubble").first).to_have_text("Hi Ann, our spring sale starts now!")
    shoot("csp-01-builder")

    # The campaign list's progress bars, the bind health badge, the report and its chart.
    page.goto(f"{url}/admin/campaigns/campaign/")
    expect(page.locator(".cd-progress [data-figure=delivered]").first).to_contain_text("3 / 4")
    assert page.locator(".cd-fill-delivered").first.evaluate("e => e.getBoundingClientRect().width") > 0
    shoot("csp-02-campaign-list")
    page.goto(f"{url}/admin/campaigns/campaign/{running.pk}/report/")
    page.wait_for_function("document.querySelector('img.cd-chart') && document.querySelector('img.cd-chart').complete")
    assert page.locator("img.cd-chart").evaluate("img => img.naturalWidth") > 0
    shoot("csp-03-report")
    # The chart's own stylesheet (inside the SVG, served with the policy) applies too.
    page.goto(f"{url}/admin/campaigns/campaign/{running.pk}/report/timeline.svg")
    assert page.locator(".cd-bar-submits").first.evaluate("e => getComputedStyle(e).fill") == "rgb(91, 155, 213)"

    # /api/docs/: Swagger UI from this app, offline, listing the API's operations.
    page.goto(f"{url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Campaign dispatch API")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    expect(page.locator(".opblock-summary-path").first).to_contain_text("/api/v1/")
    shoot("csp-04-api-docs")

    assert offline == [], f"requests that left the app: {offline}"
    assert violations == [], "\n".join(violations)


def test_the_bind_health_badge_is_coloured_under_the_csp(live_server, page, violations) -> None:
    """Operators' page: the badge's colour comes from a class, not an inline style the CSP refuses."""
    from playwright.sync_api import expect

    User.objects.create_superuser("cspop", password=PASSWORD)
    _bind()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/smpp_transport/bindstatus/")
    page.fill("#id_username", "cspop")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    badge = page.locator(".cd-health").first
    expect(badge).to_have_text("bound")
    assert badge.evaluate("e => getComputedStyle(e).color") == "rgb(46, 125, 50)"
    assert violations == [], "\n".join(violations)
