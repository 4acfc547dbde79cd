"""The short-link routes, mounted at the root of the web app (LINK_DOMAIN points here)."""

from django.urls import path

from campaigns.redirects import redirect_view

urlpatterns = [path("r/<str:code>", redirect_view, name="short-link")]
