# Written by hand: the triggers raising the "prices" generation (ocpi_peer.generations).

from django.db import migrations

from ocpi_peer import generations

forward, backward = generations.migration_functions(
    generations.PRICES, {"payments_cpoterms": []}
)


class Migration(migrations.Migration):

    dependencies = [
        ('ocpi_peer', '0010_cache_generations'),
        ('payments', '0020_checkout_invoice_details'),
    ]

    operations = [migrations.RunPython(forward, backward)]
