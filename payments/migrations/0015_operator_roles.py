"""The operators' roles as groups: give a staff user one (or more) instead of single permissions
or superuser. Each holds only what its job needs; an operator may add to a group, and running
this again (or a later migration calling `create_roles`) adds what is missing and takes nothing
away. Superusers keep everything.

- operations: partners (the handshake, pulls, party moves, compatibility profile), what they
  publish (locations, tariffs, EVSE ID aliases), sessions and checkouts to read, cases to work.
- finance: refunds, the settlement export, the ledger, disputes, CPO terms; linking a CDR and
  retrying a capture (they move money).
- support: checkouts and sessions to read, unlocking a connector, cases to work; no money, no
  partners."""

from typing import Any

from django.db import migrations
from django.db.utils import DEFAULT_DB_ALIAS

ROLES: dict[str, list[str]] = {
    "operations": [
        "ocpi_peer.view_partner",
        "ocpi_peer.change_partner",
        "ocpi_peer.manage_registration",
        "ocpi_peer.pull_partner",
        "ocpi_peer.view_partnerparty",
        "ocpi_peer.view_partnerendpoint",
        "ocpi_peer.view_partnertoken",  # shown masked
        "ocpi_peer.view_syncstate",
        "ocpi_peer.view_partyownership",
        "ocpi_peer.move_party",
        "ocpi_peer.view_partyevent",
        "ocpi_peer.view_trafficlog",
        "ocpi_peer.view_commandrequest",
        "stations.view_location",
        "stations.view_evse",
        "stations.view_connector",
        "stations.view_tariff",
        "stations.view_evseidalias",
        "stations.add_evseidalias",  # approve an alias
        "stations.delete_evseidalias",  # withdraw it
        "payments.view_chargingsession",
        "payments.view_checkout",
        "payments.view_case",
        "payments.change_case",
        "payments.resolve_case",  # e.g. the refused-claim case after a party move
        "admin.view_logentry",
    ],
    "finance": [
        "payments.view_checkout",
        "payments.view_chargingsession",
        "payments.view_deadline",
        "payments.view_refund",
        "payments.issue_refund",
        "payments.view_ledgerentry",
        "payments.export_settlement",
        "payments.view_dispute",
        "payments.view_cdr",
        "payments.view_case",
        "payments.settle_cdr",
        "payments.view_cpoterms",
        "payments.add_cpoterms",
        "payments.change_cpoterms",
        "admin.view_logentry",
    ],
    "support": [
        "payments.view_checkout",
        "payments.view_chargingsession",
        "payments.unlock_connector",
        "ocpi_peer.view_commandrequest",  # the unlock's answer
        "stations.view_location",
        "stations.view_evse",
        "payments.view_case",
        "payments.change_case",
        "payments.resolve_case",
    ],
}


def create_roles(apps: Any, schema_editor: Any) -> None:
    """Creates the groups and grants what is missing. The permissions are created first: on a
    fresh database Django makes them only after the last migration."""
    from django.contrib.auth.management import create_permissions

    using = schema_editor.connection.alias if schema_editor is not None else DEFAULT_DB_ALIAS
    for app_config in apps.get_app_configs():
        had = getattr(app_config, "models_module", None)
        app_config.models_module = had or True  # historical apps carry none; Django skips those
        try:
            create_permissions(app_config, verbosity=0, using=using, apps=apps)
        finally:
            app_config.models_module = had
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for name, grants in ROLES.items():
        group, _ = group_model.objects.using(using).get_or_create(name=name)
        for grant in grants:
            app_label, codename = grant.split(".")
            group.permissions.add(
                permission_model.objects.using(using).get(
                    content_type__app_label=app_label, codename=codename
                )
            )


def remove_roles(apps: Any, schema_editor: Any) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0014_custom_permissions"),
        ("ocpi_peer", "0009_custom_permissions"),
        ("stations", "0004_evse_id_alias"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
