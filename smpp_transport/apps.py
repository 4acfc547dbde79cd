from django.apps import AppConfig


class SmppTransportConfig(AppConfig):
    name = "smpp_transport"
    verbose_name = "SMPP transport"
