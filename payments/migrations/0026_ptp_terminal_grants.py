"""The operator roles' grants on the Payments module's admin pages: operations reads and adds
terminals (an operator's terminal for a group of locations) and reads the Financial Advice
Confirmations; finance reads both (sending a FAC again asks for `settle_cdr`, which it has)."""

from importlib import import_module
from typing import Any

from django.db import migrations
from django.db.utils import DEFAULT_DB_ALIAS

GRANTS = {
    "operations": ("view_terminal", "add_terminal", "view_financialadvice"),
    "finance": ("view_terminal", "view_financialadvice"),
}


def grant_terminals(apps: Any, schema_editor: Any) -> None:
    roles = import_module("payments.migrations.0015_operator_roles")
    roles.create_roles(apps, schema_editor)  # creates the new models' permissions first
    using = schema_editor.connection.alias if schema_editor is not None else DEFAULT_DB_ALIAS
    permissions = apps.get_model("auth", "Permission").objects.using(using)
    for name, codenames in GRANTS.items():
        group = apps.get_model("auth", "Group").objects.using(using).get(name=name)
        for codename in codenames:
            group.permissions.add(
                permissions.get(content_type__app_label="payments", codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [("payments", "0025_ptp_terminals_and_financial_advice")]

    operations = [migrations.RunPython(grant_terminals, migrations.RunPython.noop)]
