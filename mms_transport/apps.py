from django.apps import AppConfig


class MmsTransportConfig(AppConfig):
    name = "mms_transport"
    verbose_name = "MMS transport"

    def ready(self) -> None:
        # The account page's "Test connection" for MMS (campaigns.services.connection_checks).
        from campaigns.services import transport_api
        from mms_transport import probe

        transport_api.register_probe("mms", probe.probe)
