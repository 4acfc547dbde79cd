"""WSGI entry point for gunicorn: ``gunicorn config.wsgi``.

Short links (``/r/<code>``) are answered in front of Django's middleware stack
(campaigns/redirects.py); every other request goes to Django.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from campaigns.redirects import ShortLinks  # noqa: E402  (needs the apps loaded above)

application = ShortLinks(django_application)
