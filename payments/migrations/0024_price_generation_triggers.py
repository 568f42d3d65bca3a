# Written by hand: the triggers raising the "prices" generation (ocpi_peer.generations).

from django.db import migrations

from ocpi_peer import generations

forward, backward = generations.migration_functions(
    generations.PRICES, {"payments_cpoterms": []}
)


class Migration(migrations.Migration):

    dependencies = [
        ('ocpi_peer', '0011_cache_generations'),
        ('payments', '0023_operator_desk_price_tolerance_refund_bearer_search'),
    ]

    operations = [migrations.RunPython(forward, backward)]
