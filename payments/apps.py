from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        """Pulled CDRs are stored here; ocpi_peer pulls them without knowing."""
        from ocpi_peer import sync
        from payments.ocpi import pulls

        sync.register_writer("cdrs", pulls.store_cdrs)
