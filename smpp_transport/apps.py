from django.apps import AppConfig


class SmppTransportConfig(AppConfig):
    name = "smpp_transport"
    verbose_name = "SMPP transport"

    def ready(self) -> None:
        # The account page's "Test connection" for SMS (campaigns.services.connection_checks).
        from campaigns.services import transport_api
        from smpp_transport import health_words, probe

        transport_api.register_probe("sms", probe.probe)
        transport_api.register_health("sms", health_words.bind_health_lines)
        transport_api.register_segment_counter(probe.count_segments)
