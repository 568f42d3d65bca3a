from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        """Pulled CDRs and Sessions are stored here; ocpi_peer pulls them without knowing.
        Refused party claims open a case in the exception queue. A party moved to another
        connection takes its open checkouts along. An EVSE ID newly published by two payable
        chargers opens a case at once. A partner's health counts its open cases. QR stickers
        name a charger's operator as its landing page does."""
        from ocpi_peer import health, parties, sync
        from payments import cases, dashboard, offers, party_moves
        from payments.ocpi import pulls
        from stations import evse_ids, stickers

        sync.register_writer("cdrs", pulls.store_cdrs)
        sync.register_writer("sessions", pulls.store_sessions)
        parties.on_refused_claim(cases.open_refused_claim_cases)
        parties.on_party_moved(party_moves.move_open_business)
        evse_ids.on_duplicate(cases.open_duplicate_evse_id_case)
        health.on_open_cases(dashboard.open_cases_by_partner)
        stickers.name_operators_with(offers.operator_name)
