"""What error pages and error mails may show: never a password, a key or a token.

Django's ``SafeExceptionReporterFilter`` hides settings whose *name* looks secret
(``SECRET_KEY``, ``DATABASES[...]["PASSWORD"]``), but ``DATABASE_URL`` and
``CELERY_BROKER_URL`` carry their password inside the value, so ``DEBUG=true``'s technical
400 and 500 pages showed both. This filter (``DEFAULT_EXCEPTION_REPORTER_FILTER``) also:

- masks the password of every URL (``scheme://user:password@host``) in settings, in
  ``request.META`` (the environment, under ``runserver``) and in the traceback's local
  variables;
- hides any setting or META key whose name contains ``TOKEN``, ``KEY``, ``PASS``,
  ``SECRET``, ``AUTH``, ``CREDENTIAL`` or ``SIGNATURE`` (``MM4_RECEIVER_AUTH`` included), and
  any local variable named like a password, secret, token, API key or credential;
- is active with ``DEBUG`` on too, so ``@sensitive_post_parameters`` (the admin's login
  and password forms) and ``@sensitive_variables`` hold on a developer's page as well.
"""

from __future__ import annotations

import re
from pprint import pformat
from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/?#@\s]*):(?P<password>[^@\s]*)@", re.I)
# Local variables are named more freely than settings (``key`` in a loop): a narrower net.
_SECRET_LOCAL = re.compile("PASS|SECRET|TOKEN|API_?KEY|CREDENTIAL", re.I)


class _Shown:
    """A value rendered as the given (already masked) text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class SecretMaskingFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile("API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|CREDENTIAL|HTTP_COOKIE", flags=re.I)

    def mask(self, text: str) -> str:
        """``text`` with the password of every URL in it replaced by stars."""
        # str(): a lazy string (django-csp's nonce on the request) passes isinstance(…, str)
        # but not the regex engine.
        return _URL_PASSWORD.sub(rf"\g<head>:{self.cleansed_substitute}@", str(text))

    def is_active(self, request: HttpRequest | None) -> bool:
        return True  # a developer's DEBUG page is still a page someone may screenshot

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)  # recurses into dicts and lists through here
        return self.mask(cleansed) if isinstance(cleansed, str) else cleansed

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        shown = []
        for name, value in super().get_traceback_frame_variables(request, tb_frame):
            if isinstance(name, str) and _SECRET_LOCAL.search(name):
                value = self.cleansed_substitute
            elif value is not self.cleansed_substitute:
                text = pformat(value)
                masked = self.mask(text)
                if masked != text:
                    value = _Shown(masked)
            shown.append((name, value))
        return shown
