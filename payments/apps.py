from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        """Pulled CDRs are stored here; ocpi_peer pulls them without knowing. Refused party
        claims open a case in the exception queue."""
        from ocpi_peer import parties, sync
        from payments import cases
        from payments.ocpi import pulls

        sync.register_writer("cdrs", pulls.store_cdrs)
        parties.on_refused_claim(cases.open_refused_claim_cases)
