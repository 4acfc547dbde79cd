from django.apps import AppConfig


class MmsTransportConfig(AppConfig):
    name = "mms_transport"
    verbose_name = "MMS transport"
