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
