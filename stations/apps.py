from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "stations"
    verbose_name = "Stations and prices"

    def ready(self) -> None:
        """Pulled locations and tariffs are stored here; ocpi_peer pulls them without knowing."""
        from ocpi_peer import parties, sync
        from stations import services
        from stations.ocpi import pulls

        sync.register_writer("locations", pulls.store_locations)
        sync.register_writer("tariffs", pulls.store_tariffs)
        parties.on_party_moved(services.move_party_rows)
