from django.apps import AppConfig


class SmppTransportConfig(AppConfig):
    name = "smpp_transport"
    verbose_name = "SMPP transport"

    def ready(self) -> None:
        """Add the binds' heartbeats to the web's /metrics (config/ knows no transport)."""
        from config.metrics import register_collector
        from smpp_transport.health import bind_health_metrics

        register_collector(bind_health_metrics)
