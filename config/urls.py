"""URL routes: the admin (the marketer's UI), the REST API and its schema.

/api/docs/ is Swagger UI in its "split" form: the page and its start-up script are two
responses, so the page needs no inline script under the Content-Security-Policy.
"""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from campaigns.admin.media_files import media_file_view
from config.metrics import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    # Stored MMS media, for logged-in people who may view campaigns (campaigns/admin/media_files.py).
    path("media/<path:name>", media_file_view, name="media-file"),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", include("campaigns.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
]
