"""GET /r/<code>: the public end of a tracked short link (no login, no session, no cookie).

The answer says nothing about the campaign: a 302 with the original URL and two headers
(no referrer, so the destination never sees the short link; no caching, so every click
reaches us), or a plain 404 for an unknown or expired code, the same for both.

Why a WSGI layer in front of Django rather than a view: a whole campaign's recipients may
click within minutes, and Django's middleware stack (sessions, CSRF, auth, messages, CSP,
axes) and URL resolver cost more CPU than the click itself (docs/benchmarks.md, *Short-link
redirects*: 1.1–1.8 ms of web CPU per redirect through the view, against the database's
0.5). None of that middleware has anything to do on this path, so :class:`ShortLinks`
answers ``/r/`` itself and hands every other request to Django unchanged. What the
middleware would have given this path is kept here: the HTTPS redirect and HSTS
(``HTTPS=on``), ``nosniff``, the host check before redirecting to a host, Django's
``request_started``/``request_finished`` signals (the database connection's housekeeping
hangs on them), and a 405 for anything but GET and HEAD.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core import signals
from django.http.request import split_domain_port, validate_host

from campaigns.models.links import CODE_LENGTH
from campaigns.services.clicks import follow_code
from config.security import client_ip

logger = logging.getLogger(__name__)

PREFIX = "/r/"
StartResponse = Callable[..., Any]
_PRIVATE = [("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
_NOT_FOUND = b"Not found.\n"
_UNAVAILABLE = b"Temporarily unavailable; please try again.\n"


class ShortLinks:
    """WSGI middleware: ``/r/<code>`` answered here, everything else by the Django app."""

    def __init__(self, django_app: Callable[[dict, StartResponse], Iterable[bytes]]) -> None:
        self.django_app = django_app

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.django_app(environ, start_response)
        signals.request_started.send(sender=self.__class__, environ=environ)
        try:
            status, headers, body = answer(environ, path[len(PREFIX) :])
        finally:
            signals.request_finished.send(sender=self.__class__)
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def answer(environ: dict, code: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """Status, headers and body for a request of ``/r/<code>``."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD"):
        return "405 Method Not Allowed", [("Allow", "GET, HEAD"), *_text()], b"Method not allowed.\n"
    secure = _is_secure(environ)
    if settings.SECURE_SSL_REDIRECT and not secure:
        host = settings.SECURE_SSL_HOST or _valid_host(environ)
        if host is None:
            return "400 Bad Request", _text(), b"Bad request.\n"
        return "301 Moved Permanently", [("Location", f"https://{host}{PREFIX}{code}"), *_text()], b""
    headers = [*_PRIVATE, *_hsts(secure)]
    url = None
    if len(code) == CODE_LENGTH and code.isascii() and code.isalnum():
        try:
            url = follow_code(
                code=code,
                user_agent=environ.get("HTTP_USER_AGENT", "")[:512],
                ip=client_ip(SimpleNamespace(META=environ)) if settings.LINK_CLICK_STORE_IP else None,
            )
        except Exception:  # the database is away: say so, never redirect without the click
            logger.exception("short link %s…: the click could not be recorded", code[:2])
            return "503 Service Unavailable", [("Retry-After", "5"), *headers, *_text()], _UNAVAILABLE
    if url is None:
        return "404 Not Found", [*headers, *_text()], _NOT_FOUND
    return "302 Found", [("Location", url), *headers, ("Content-Type", "text/html; charset=utf-8")], b""


def _text() -> list[tuple[str, str]]:
    return [("Content-Type", "text/plain; charset=utf-8")]


def _is_secure(environ: dict) -> bool:
    """As ``HttpRequest.is_secure``: the scheme, or the trusted proxy's header (HTTPS=on)."""
    if settings.SECURE_PROXY_SSL_HEADER:
        header, value = settings.SECURE_PROXY_SSL_HEADER
        forwarded = environ.get(header)
        if forwarded is not None:
            return forwarded.split(",", 1)[0].strip() == value
    return environ.get("wsgi.url_scheme") == "https"


def _hsts(secure: bool) -> list[tuple[str, str]]:
    if not (secure and settings.SECURE_HSTS_SECONDS):
        return []
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    value += "; includeSubDomains" if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS else ""
    value += "; preload" if settings.SECURE_HSTS_PRELOAD else ""
    return [("Strict-Transport-Security", value)]


def _valid_host(environ: dict) -> str | None:
    """The Host header if ALLOWED_HOSTS admits it (as ``HttpRequest.get_host``), else None."""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    domain, _port = split_domain_port(host)
    return host if domain and validate_host(domain, settings.ALLOWED_HOSTS) else None
