"""The legal pages every driver page links to, the link e-mails a driver asks for on the live
page, and the operations role's grant to write the legal pages."""

from importlib import import_module
from typing import Any

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.utils import DEFAULT_DB_ALIAS

LEGAL_PAGE_GRANTS = ("view_legalpage", "add_legalpage", "change_legalpage")


def grant_legal_pages(apps: Any, schema_editor: Any) -> None:
    """Operations writes the terms of use, imprint, privacy policy and support page."""
    roles = import_module("payments.migrations.0015_operator_roles")
    roles.create_roles(apps, schema_editor)  # creates the new model's permissions first
    using = schema_editor.connection.alias if schema_editor is not None else DEFAULT_DB_ALIAS
    group = apps.get_model("auth", "Group").objects.using(using).get(name="operations")
    permissions = apps.get_model("auth", "Permission").objects.using(using)
    for codename in LEGAL_PAGE_GRANTS:
        group.permissions.add(
            permissions.get(content_type__app_label="payments", codename=codename)
        )


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0020_checkout_invoice_details'),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.CreateModel(
            name='LegalPage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('terms', 'Terms of use'), ('imprint', 'Imprint (Impressum)'), ('privacy', 'Privacy policy'), ('support', 'Support')], max_length=8, unique=True)),
                ('text_en', models.TextField(blank=True, verbose_name='text (English)')),
                ('text_de', models.TextField(blank=True, verbose_name='text (German)')),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'legal page',
            },
        ),
        migrations.CreateModel(
            name='LinkMail',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('email', models.EmailField(blank=True, max_length=254)),
                ('locale', models.CharField(default='en', max_length=2)),
                ('client_net', models.CharField(blank=True, db_index=True, max_length=64)),
                ('requested_at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('checkout', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='link_mails', to='payments.checkout')),
            ],
        ),
        migrations.RunPython(grant_legal_pages, migrations.RunPython.noop),
    ]
