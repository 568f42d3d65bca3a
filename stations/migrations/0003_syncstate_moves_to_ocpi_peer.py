# SyncState tracks CDR pulls too, so it moved to ocpi_peer (ocpi_peer 0005 takes over its table).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('stations', '0002_open_enums'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='SyncState')],
            database_operations=[],
        ),
    ]
