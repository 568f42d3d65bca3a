# Written by hand: the triggers raising the "prices" generation (ocpi_peer.generations).

from django.db import migrations

from ocpi_peer import generations

forward, backward = generations.migration_functions(
    generations.PRICES, {"stations_tariff": [], "stations_evseidalias": []}
)


class Migration(migrations.Migration):

    dependencies = [
        ('ocpi_peer', '0011_cache_generations'),
        ('stations', '0004_evse_id_alias'),
    ]

    operations = [migrations.RunPython(forward, backward)]
