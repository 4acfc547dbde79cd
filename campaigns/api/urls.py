"""Routes of /api/v1/. Anything else under the prefix is a JSON 404, never Django's HTML page."""

from __future__ import annotations

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from campaigns.api.errors import not_found
from campaigns.api.views.accounts import AccountViewSet
from campaigns.api.views.campaigns import CampaignViewSet
from campaigns.api.views.contacts import ContactViewSet, OptOutViewSet
from campaigns.api.views.lists import RecipientListViewSet
from campaigns.api.views.messages import MessageViewSet
from campaigns.api.views.send import SingleSendView

app_name = "api"

router = SimpleRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("lists", RecipientListViewSet, basename="recipientlist")
router.register("contacts", ContactViewSet, basename="contact")
router.register("opt-outs", OptOutViewSet, basename="optout")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("messages", MessageViewSet, basename="message")

urlpatterns = [
    path("send/", SingleSendView.as_view(), name="send"),
    path("", include(router.urls)),
    re_path(r"^.*$", not_found, name="not-found"),
]
