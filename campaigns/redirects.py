"""GET /r/<code>: the public end of a tracked short link (no login, no session, no cookie).

The answer says nothing about the campaign: a 302 with the original URL and two headers
(no referrer, so the destination never sees the short link; no caching, so every click
reaches us), or a plain 404 for an unknown or expired code, the same for both.
"""

from __future__ import annotations

from csp.decorators import csp_exempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from campaigns.models.links import CODE_LENGTH
from campaigns.services.clicks import follow_code
from config.security import client_ip

_PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


@csp_exempt()  # a redirect has no content: no policy header on it
@xframe_options_exempt
@require_safe
def redirect_view(request: HttpRequest, code: str) -> HttpResponse:
    url = None
    if len(code) == CODE_LENGTH and code.isascii() and code.isalnum():
        url = follow_code(
            code=code,
            user_agent=request.headers.get("User-Agent", "")[:512],
            ip=client_ip(request) if settings.LINK_CLICK_STORE_IP else None,
        )
    response = HttpResponseRedirect(url) if url else HttpResponseNotFound("Not found.\n", content_type="text/plain")
    for name, value in _PRIVATE.items():
        response[name] = value
    # A mistyped or guessed code is not an error of the platform: Django would log every one
    # as a warning ("Not Found"), and a scanner would fill the log (django.utils.log.log_response).
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
