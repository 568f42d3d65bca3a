from django.apps import AppConfig


class OcpiPeerConfig(AppConfig):
    name = "ocpi_peer"
    verbose_name = "OCPI partners"
