# Written by hand: the triggers raising the "prices" generation (ocpi_peer.generations). They
# come after the last change of the tables they watch: SQLite rebuilds a table it alters, and
# the rebuilt table has no triggers.

from django.db import migrations

from ocpi_peer import generations

forward, backward = generations.migration_functions(
    generations.PRICES, {"stations_tariff": [], "stations_evseidalias": []}
)


class Migration(migrations.Migration):

    dependencies = [
        ('ocpi_peer', '0011_cache_generations'),
        ('stations', '0005_ocpi_230_tariff_taxes_and_afir_fields'),
    ]

    operations = [migrations.RunPython(forward, backward)]
