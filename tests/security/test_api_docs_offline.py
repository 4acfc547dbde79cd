"""/api/docs/ is served from the app (drf-spectacular-sidecar): every script and stylesheet is
one of ours, no CDN, no inline script, under the Content-Security-Policy. (The browser test
tests/browser/test_csp_and_docs.py renders it with every outside request refused.)"""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_swagger_ui_loads_only_files_of_this_app() -> None:
    client = Client()
    page = client.get("/api/docs/")
    html = page.content.decode()
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(url.startswith(("/static/", "/api/docs/")) for url in urls), urls
    assert not re.search(r"cdn|jsdelivr|unpkg|@latest", html)
    assert re.findall(r"<script[^>]*>\s*[^<\s]", html) == []  # every <script> is empty: src only
    assert "<style" not in html
    for url in urls:
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url  # shipped with the app, collected into var/
    script = client.get(next(u for u in urls if u.startswith("/api/docs/")).replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content and b"/api/schema/" in script.content
