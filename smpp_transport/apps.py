from django.apps import AppConfig


class SmppTransportConfig(AppConfig):
    name = "smpp_transport"
    verbose_name = "SMPP transport"

    def ready(self) -> None:
        """Add the bind bootstep to the Celery worker (it opens a bind only in a process
        started with ``SMPP_BIND_SYSTEM_ID``), and the binds' heartbeats to the web's
        /metrics: ``config/`` knows no transport, the transport registers itself."""
        from config.celery import app
        from config.metrics import register_collector
        from smpp_transport.health import bind_health_metrics

        app.steps["worker"].add("smpp_transport.worker:BindStep")
        register_collector(bind_health_metrics)

        # The account page's "Test connection" and bind health in words for SMS.
        from campaigns.services import transport_api
        from smpp_transport import health_words, probe

        transport_api.register_probe("sms", probe.probe)
        transport_api.register_health("sms", health_words.bind_health_lines)

        # Routes: which accounts cannot send now (bind health), so their traffic moves.
        from smpp_transport import availability

        transport_api.register_availability("sms", availability.unavailable)
