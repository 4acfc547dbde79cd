"""Tracked short links: the URL finder, the codes, per-message substitution at claim time,
the redirect (click recorded, 302, 404, no leak) and the preview's short form."""

from __future__ import annotations

import math
import re

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.admin.preview import build_preview
from campaigns.models import Click, Message, ShortCode, TrackedLink
from campaigns.models.links import CODE_LENGTH
from campaigns.services import campaign_actions as actions
from campaigns.services.clicks import agent_class
from campaigns.services.dispatch import tick
from campaigns.services.links import ALPHABET, find_urls, new_codes, preview_text, track_bodies
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, MessageFactory, RecipientListFactory
from tests.wsgi_client import wsgi_request

# (text, the URLs found): prose around links, brackets, queries, fragments, case.
GOLDEN = [
    ("Sale! https://shop.example.com/spring now", ["https://shop.example.com/spring"]),
    ("See https://x.io/a.", ["https://x.io/a"]),
    ("Go: https://x.io/a, https://y.io/b; ok", ["https://x.io/a", "https://y.io/b"]),
    ("Really? http://x.io/?q=1&r=two!", ["http://x.io/?q=1&r=two"]),
    ("(details at https://x.io/terms)", ["https://x.io/terms"]),
    ("wiki https://en.wikipedia.org/wiki/Foo_(bar) here", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
    ("(https://en.wikipedia.org/wiki/Foo_(bar))", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
    ("https://x.io/p?utm_source=sms&utm_medium=text#top.", ["https://x.io/p?utm_source=sms&utm_medium=text#top"]),
    ("HTTPS://X.IO/Up", ["HTTPS://X.IO/Up"]),
    ('"https://x.io/q" and <https://y.io/>', ["https://x.io/q", "https://y.io/"]),
    ("port https://x.io:8443/a?b=c", ["https://x.io:8443/a?b=c"]),
    ("ipv6 http://[::1]:8000/x", ["http://[::1]:8000/x"]),
    ("ends with https://x.io/…", ["https://x.io/"]),
    ("no scheme www.x.io, ftp://x.io/f, mailto:a@x.io", []),
    ("bare http:// and https:/// nothing", []),
    ("glued xhttps://x.io is not a link", []),
    ("two lines https://x.io/a\nhttps://y.io/b", ["https://x.io/a", "https://y.io/b"]),
    ("unicode https://x.io/ça?q=é end", ["https://x.io/ça?q=é"]),
]


@pytest.mark.parametrize(("text", "urls"), GOLDEN)
def test_url_finder_golden_vectors(text: str, urls: list[str]) -> None:
    assert [u for _, _, u in find_urls(text)] == urls
    for start, end, url in find_urls(text):
        assert text[start:end] == url


def test_preview_uses_the_short_form_with_a_code_of_the_real_length(settings) -> None:
    settings.LINK_DOMAIN = "https://s.example.com"
    text = preview_text("Sale (https://shop.example.com/a-very-long-path?utm_source=sms&utm_campaign=spring).")
    assert text == f"Sale (https://s.example.com/r/{'x' * CODE_LENGTH})."


def test_codes_are_base62_of_at_least_40_bits_and_unique() -> None:
    assert CODE_LENGTH * math.log2(len(ALPHABET)) >= 40
    assert len(set(ALPHABET)) == 62
    codes = new_codes(200_000)
    assert len(set(codes)) == len(codes)
    assert all(len(c) == CODE_LENGTH and re.fullmatch(r"[0-9A-Za-z]+", c) for c in codes)
    # every character of the alphabet appears at every position (no stuck digit)
    for position in range(CODE_LENGTH):
        assert {c[position] for c in codes[:20_000]} == set(ALPHABET)


def test_user_agent_classes() -> None:
    assert agent_class("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148") == "mobile"
    assert agent_class("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile Safari/537.36") == "mobile"
    assert agent_class("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120 Safari/537.36") == "desktop"
    assert agent_class("WhatsApp/2.23.20 A") == "bot"
    assert agent_class("facebookexternalhit/1.1") == "bot"
    assert agent_class("Googlebot/2.1 (+http://www.google.com/bot.html)") == "bot"
    assert agent_class("") == "other"


def _tracked_campaign(n: int, body: str):  # type: ignore[no-untyped-def]
    lst = RecipientListFactory()
    for i in range(n):
        ContactFactory(recipient_list=lst, phone=f"+4479111{i:05d}", first_name=f"N{i}")
    campaign = CampaignFactory(account=AccountFactory(binds=2, rate_per_bind=50), body=body, track_links=True)
    campaign.recipient_lists.add(lst)
    return campaign


@pytest.mark.django_db
def test_a_tracked_campaign_gives_each_message_its_own_codes(settings) -> None:
    settings.LINK_DOMAIN = "https://s.example.com"
    campaign = _tracked_campaign(
        20, "Spring sale: https://shop.example.com/spring?utm=sms. Terms (https://t.example.com)."
    )
    actions.send_now(campaign=campaign)
    statements: list[str] = []
    with connection.execute_wrapper(lambda execute, sql, *a: statements.append(sql) or execute(sql, *a)):
        batches = tick(enqueue=lambda batch: None)
    bodies = list(Message.objects.filter(campaign=campaign, status=S.QUEUED).values_list("id", "body"))
    assert len(bodies) == 20
    pattern = re.compile(
        r"^Spring sale: https://s\.example\.com/r/(\w{8})\. Terms \(https://s\.example\.com/r/(\w{8})\)\.$"
    )
    codes = [pattern.match(body).groups() for _, body in bodies]  # type: ignore[union-attr]
    flat = [c for pair in codes for c in pair]
    assert len(set(flat)) == 40
    links = dict(TrackedLink.objects.filter(campaign=campaign).values_list("url", "id"))
    assert set(links) == {"https://shop.example.com/spring?utm=sms", "https://t.example.com"}
    stored = {(s.message_id, s.link_id): s.code for s in ShortCode.objects.filter(link__campaign=campaign)}
    for (mid, _), (first, second) in zip(bodies, codes, strict=True):
        assert stored[(mid, links["https://shop.example.com/spring?utm=sms"])] == first
        assert stored[(mid, links["https://t.example.com"])] == second
    # set-based: one INSERT of codes per batch (one for each of the account's binds), never one per message
    inserts = [s for s in statements if "INSERT INTO" in s and ShortCode._meta.db_table in s]
    assert len(batches) < 20 and len(inserts) == len(batches)


@pytest.mark.django_db
def test_a_message_claimed_again_keeps_its_codes() -> None:
    campaign = CampaignFactory(body="Go https://x.io/a", track_links=True)
    message = MessageFactory(campaign=campaign, phone="+447911100001")
    now = timezone.now()
    [(_, first)] = track_bodies(campaign=campaign, bodies=[(message.id, campaign.body)], now=now)
    [(_, again)] = track_bodies(campaign=campaign, bodies=[(message.id, campaign.body)], now=now)
    assert first == again and first != campaign.body
    assert ShortCode.objects.filter(message=message).count() == 1


@pytest.mark.django_db
def test_an_untracked_campaign_keeps_its_links() -> None:
    campaign = _tracked_campaign(3, "Go https://x.io/a")
    campaign.track_links = False
    campaign.save()
    actions.send_now(campaign=campaign)
    tick(enqueue=lambda batch: None)
    assert set(Message.objects.filter(campaign=campaign).values_list("body", flat=True)) == {"Go https://x.io/a"}
    assert not ShortCode.objects.exists()


def _code(body: str = "Go https://shop.example.com/a?b=1") -> tuple[ShortCode, Message]:
    campaign = CampaignFactory(body=body, track_links=True)
    message = MessageFactory(campaign=campaign, phone="+447911100001")
    track_bodies(campaign=campaign, bodies=[(message.id, body)], now=timezone.now())
    return ShortCode.objects.get(message=message), message


@pytest.mark.django_db
def test_the_redirect_records_the_click_and_answers_302_without_leaking() -> None:
    code, message = _code()
    response = wsgi_request(f"/r/{code.code}", HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile")
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/a?b=1"
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in response and "Content-Security-Policy" not in response
    everything = " ".join(f"{k}: {v}" for k, v in response.headers.items()) + response.content.decode()
    assert str(message.campaign_id) not in everything.replace("https://shop.example.com/a?b=1", "")
    assert message.campaign.name not in everything
    click = Click.objects.get()
    assert (click.message_id, click.link_id, click.campaign_id) == (message.id, code.link_id, message.campaign_id)
    assert click.agent == "mobile" and click.ip is None


@pytest.mark.django_db
def test_the_address_is_kept_only_when_the_operator_says_so(settings) -> None:
    settings.LINK_CLICK_STORE_IP = True
    code, _ = _code()
    wsgi_request(f"/r/{code.code}", REMOTE_ADDR="192.0.2.7")
    assert Click.objects.get().ip == "192.0.2.7"


@pytest.mark.django_db
def test_unknown_expired_and_wrong_case_codes_get_a_plain_404(caplog) -> None:
    code, _ = _code()
    swapped = code.code.swapcase()
    for path in ("/r/AAAAAAAA", f"/r/{code.code}x", "/r/" + "%00" * 8, f"/r/{swapped}", "/r/", f"/r/{code.code}/"):
        if path.endswith(swapped) and swapped == code.code:
            continue
        response = wsgi_request(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("text/plain") and response.content == b"Not found.\n"
    ShortCode.objects.filter(pk=code.pk).update(expires_at=timezone.now())
    assert wsgi_request(f"/r/{code.code}").status_code == 404
    assert not Click.objects.exists()
    assert "Not Found" not in caplog.text  # a guessed code is not logged as a warning


@pytest.mark.django_db
def test_head_is_a_click_without_a_body_and_other_methods_are_refused() -> None:
    code, _ = _code()
    head = wsgi_request(f"/r/{code.code}", "HEAD")
    assert head.status_code == 302 and head.content == b"" and head["Location"] == "https://shop.example.com/a?b=1"
    assert Click.objects.count() == 1
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        refused = wsgi_request(f"/r/{code.code}", method)
        assert refused.status_code == 405 and refused["Allow"] == "GET, HEAD", method
    assert Click.objects.count() == 1


@pytest.mark.django_db
def test_behind_https_plain_http_is_sent_to_https_and_https_gets_hsts(settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    settings.ALLOWED_HOSTS = ["s.example.com"]
    code, _ = _code()
    plain = wsgi_request(f"/r/{code.code}", HTTP_HOST="s.example.com")
    assert plain.status_code == 301 and plain["Location"] == f"https://s.example.com/r/{code.code}"
    assert wsgi_request(f"/r/{code.code}", HTTP_HOST="evil.example.net").status_code == 400
    assert not Click.objects.exists()  # a redirect to https is not a click yet
    secure = wsgi_request(f"/r/{code.code}", HTTP_HOST="s.example.com", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 302 and secure["Strict-Transport-Security"].startswith("max-age=3600")
    assert Click.objects.count() == 1


@pytest.mark.django_db
def test_every_other_path_is_still_django() -> None:
    login = wsgi_request("/admin/login/")
    assert login.status_code == 200 and b"csrfmiddlewaretoken" in login.content
    assert "Content-Security-Policy" in login  # Django's middleware ran
    assert wsgi_request("/rx/AAAAAAAA").status_code == 404  # not a short link: Django's 404


@pytest.mark.django_db
def test_the_builder_preview_counts_the_short_form(settings) -> None:
    settings.LINK_DOMAIN = "https://s.example.com"
    body = "Sale " + "https://shop.example.com/" + "p" * 150
    plain = build_preview(body=body, channel="sms", account=None, list_ids=[], send_rate=None)
    tracked = build_preview(body=body, channel="sms", account=None, list_ids=[], send_rate=None, track_links=True)
    assert plain["segments"] == 2 and tracked["segments"] == 1
    assert tracked["samples"][0]["text"] == f"Sale https://s.example.com/r/{'x' * CODE_LENGTH}"
