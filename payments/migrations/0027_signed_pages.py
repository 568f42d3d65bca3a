"""The meter pages named by linked CDRs' signed data (`SignedPage`), so that the replay check is
one indexed read; filled from the CDRs stored so far, a batch at a time."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

BATCH = 1000


def keep_pages_of_stored_cdrs(apps: Any, schema_editor: Any) -> None:
    from payments.eichrecht import signed_pages  # reads only the body it is given

    cdrs = apps.get_model("payments", "Cdr")
    pages = apps.get_model("payments", "SignedPage")
    alias = schema_editor.connection.alias
    linked = (
        cdrs.objects.using(alias)
        .filter(checkout__isnull=False, credit=False)
        .select_related("checkout")
        .only("body", "checkout", "checkout__partner")
        .order_by("pk")
    )
    rows: list[Any] = []
    for cdr in linked.iterator(chunk_size=BATCH):
        rows += [
            pages(
                partner_id=cdr.checkout.partner_id,
                checkout_id=cdr.checkout_id,
                cdr_id=cdr.pk,
                meter=meter,
                page=page,
            )
            for meter, page in signed_pages(cdr)
        ]
        if len(rows) >= BATCH:
            pages.objects.using(alias).bulk_create(rows, ignore_conflicts=True)
            rows = []
    pages.objects.using(alias).bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("ocpi_peer", "0011_cache_generations"),
        ("payments", "0026_ptp_terminal_grants"),
    ]

    operations = [
        migrations.CreateModel(
            name="SignedPage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("meter", models.CharField(max_length=64)),
                ("page", models.CharField(max_length=64)),
                (
                    "cdr",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="payments.cdr",
                    ),
                ),
                (
                    "checkout",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="payments.checkout",
                    ),
                ),
                (
                    "partner",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="ocpi_peer.partner",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["partner", "meter", "page"], name="signed_page_lookup")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("cdr", "meter", "page"), name="unique_signed_page"
                    )
                ],
            },
        ),
        migrations.RunPython(keep_pages_of_stored_cdrs, migrations.RunPython.noop),
    ]
