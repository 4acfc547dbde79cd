"""Requests to the WSGI application gunicorn serves (``config.wsgi.application``).

Django's test ``Client`` enters at Django's handler, behind the WSGI layer that answers
short links (campaigns/redirects.py); this calls the very object gunicorn calls. Like
Django's client, it keeps the request signals from closing the test's database connection
(the test's transaction lives on it).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote
from wsgiref.util import setup_testing_defaults

from django.core import signals
from django.db import close_old_connections


@dataclass
class WsgiResponse:
    status_code: int
    headers: dict[str, str]  # names in lower case
    content: bytes

    def __getitem__(self, name: str) -> str:
        return self.headers[name.lower()]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.headers


def wsgi_request(path: str, method: str = "GET", **environ: str) -> WsgiResponse:
    """``method path`` as gunicorn hands it over (PATH_INFO percent-decoded, as latin-1);
    extra CGI variables (``HTTP_USER_AGENT``, ``REMOTE_ADDR``, ...) as keyword arguments."""
    from config.wsgi import application

    env: dict = {"REQUEST_METHOD": method, "PATH_INFO": unquote(path, encoding="latin-1"), **environ}
    setup_testing_defaults(env)
    captured: dict = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None) -> None:
        captured["status"], captured["headers"] = status, headers

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        chunks = application(env, start_response)
        try:
            content = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    headers = {name.lower(): value for name, value in captured["headers"]}
    return WsgiResponse(int(captured["status"].split()[0]), headers, content)
