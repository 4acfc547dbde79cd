"""Routes of /api/v1/. Anything else under the prefix is a JSON 404, never Django's HTML page."""

from __future__ import annotations

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from campaigns.api.errors import not_found
from campaigns.api.views.accounts import AccountViewSet
from campaigns.api.views.campaigns import CampaignViewSet
from campaigns.api.views.contacts import ContactViewSet, OptOutViewSet
from campaigns.api.views.lists import RecipientListViewSet
from campaigns.api.views.media import CampaignMediaViewSet
from campaigns.api.views.messages import MessageViewSet
from campaigns.api.views.routes import RouteViewSet
from campaigns.api.views.send import SingleSendView
from campaigns.api.views.webhooks import WebhookEndpointViewSet

app_name = "api"

router = SimpleRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("lists", RecipientListViewSet, basename="recipientlist")
router.register("contacts", ContactViewSet, basename="contact")
router.register("opt-outs", OptOutViewSet, basename="optout")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("messages", MessageViewSet, basename="message")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("routes", RouteViewSet, basename="route")

ID = r"[0-9]{1,18}"
media_list = CampaignMediaViewSet.as_view({"get": "list", "post": "create"})
media_detail = CampaignMediaViewSet.as_view({"get": "retrieve", "delete": "destroy"})

urlpatterns = [
    path("send/", SingleSendView.as_view(), name="send"),
    re_path(rf"^campaigns/(?P<campaign_id>{ID})/media/$", media_list, name="campaign-media-list"),
    re_path(rf"^campaigns/(?P<campaign_id>{ID})/media/(?P<pk>{ID})/$", media_detail, name="campaign-media-detail"),
    path("", include(router.urls)),
    re_path(r"^[\s\S]*\Z", not_found, name="not-found"),  # any character, newlines included
]
