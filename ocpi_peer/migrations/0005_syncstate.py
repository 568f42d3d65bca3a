# SyncState moved here from stations: the model takes over stations' table and its rows, then
# the table gets this app's name.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ocpi_peer', '0004_open_enums'),
        ('stations', '0003_syncstate_moves_to_ocpi_peer'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SyncState',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('module', models.CharField(max_length=16)),
                        ('last_success_started_at', models.DateTimeField(blank=True, null=True)),
                        ('last_run_at', models.DateTimeField(blank=True, null=True)),
                        ('last_result', models.TextField(blank=True)),
                        ('last_ok', models.BooleanField(null=True)),
                        ('received', models.PositiveIntegerField(default=0)),
                        ('written', models.PositiveIntegerField(default=0)),
                        ('rejected', models.PositiveIntegerField(default=0)),
                        ('partner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sync_states', to='ocpi_peer.partner')),
                    ],
                    options={
                        'db_table': 'stations_syncstate',
                        'constraints': [models.UniqueConstraint(fields=('partner', 'module'), name='unique_sync_state')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name='syncstate', table=None),
    ]
