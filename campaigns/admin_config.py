"""django.contrib.admin with this project's site (campaigns.admin_site): the app config only,
so INSTALLED_APPS can name it before any model is loaded."""

from django.contrib.admin.apps import AdminConfig


class CampaignsAdminConfig(AdminConfig):
    default_site = "campaigns.admin_site.CampaignsAdminSite"
