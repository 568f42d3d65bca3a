"""Meter keys pinned per EVSE (calibration law), the two cases their checks open, and the
operations role's grant to read, enter and correct them."""

from importlib import import_module
from typing import Any

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.utils import DEFAULT_DB_ALIAS

METER_KEY_GRANTS = ("view_meterkey", "add_meterkey", "change_meterkey")


def grant_meter_keys(apps: Any, schema_editor: Any) -> None:
    """Operations enters a key from a meter's label, or corrects one after a meter is replaced."""
    roles = import_module("payments.migrations.0015_operator_roles")
    roles.create_roles(apps, schema_editor)  # creates the new model's permissions first
    using = schema_editor.connection.alias if schema_editor is not None else DEFAULT_DB_ALIAS
    group = apps.get_model("auth", "Group").objects.using(using).get(name="operations")
    permissions = apps.get_model("auth", "Permission").objects.using(using)
    for codename in METER_KEY_GRANTS:
        group.permissions.add(
            permissions.get(content_type__app_label="payments", codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0017_session_body_and_pull"),
        ("stations", "0004_evse_id_alias"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.AlterField(
            model_name="case",
            name="kind",
            field=models.CharField(
                choices=[
                    ("unmatched_cdr", "CDR matches no checkout"),
                    ("cdr_conflict", "CDR sent again with other content"),
                    ("unsettled_cdr", "CDR for a checkout without a hold"),
                    ("price_difference", "price difference"),
                    ("shortfall", "shortfall: the CDR asks more than was held"),
                    ("expiring_hold", "hold settled before its CDR"),
                    ("missing_cdr", "no CDR"),
                    ("failed_capture", "capture failed"),
                    ("failed_refund", "refund failed"),
                    ("invalid_session", "INVALID session"),
                    ("unmatched_session", "session matches no checkout"),
                    ("late_session", "session after the checkout ended"),
                    ("stop_failed", "STOP_SESSION failed"),
                    ("dispute", "card payment disputed"),
                    ("refused_claim", "a connection claimed another's party (refused)"),
                    ("duplicate_evse_id", "EVSE ID published for two chargers"),
                    ("meter_key_changed", "meter key differs from the charger's"),
                    ("signed_data_mismatch", "signed meter data names another session"),
                ],
                db_index=True,
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="MeterKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "public_key",
                    models.TextField(
                        help_text="as the meter's label or the CPO gives it: hex or base64 DER, or PEM"
                    ),
                ),
                ("pinned_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "pinned_by",
                    models.CharField(
                        help_text="the operator who entered it, or the CDR it was first seen in",
                        max_length=150,
                    ),
                ),
                (
                    "cdr",
                    models.ForeignKey(
                        blank=True,
                        help_text="the CDR it was first seen in",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="payments.cdr",
                    ),
                ),
                (
                    "evse",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="meter_key",
                        to="stations.evse",
                    ),
                ),
            ],
        ),
        migrations.RunPython(grant_meter_keys, migrations.RunPython.noop),
    ]
