from django.apps import AppConfig


class MmsTransportConfig(AppConfig):
    name = "mms_transport"
    verbose_name = "MMS transport"

    def ready(self) -> None:
        """Add the MM4 session bootstep to the Celery worker (it opens a session only in a
        process started with ``MM4_WORKER_SYSTEM_ID``)."""
        from config.celery import app

        app.steps["worker"].add("mms_transport.worker:MM4SessionStep")

        # The account page's "Test connection" for MMS (campaigns.services.connection_checks).
        from campaigns.services import transport_api
        from mms_transport import probe

        transport_api.register_probe("mms", probe.probe)
