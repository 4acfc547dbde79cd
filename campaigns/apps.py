from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the ``__any`` lookup (``id = ANY(array)``) used by the hot paths.
        from campaigns import checks  # noqa: F401  (the admin secret checks)
        from campaigns.services import bulk_sql  # noqa: F401
