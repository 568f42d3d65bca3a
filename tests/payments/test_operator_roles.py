"""The migrations give operators three roles, each with the jobs it needs and none of the
others'; running the step again restores what is missing and keeps what an operator added."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from tests.support.roles import roles_migration, staff

pytestmark = pytest.mark.django_db

JOBS = [
    "ocpi_peer.manage_registration",
    "ocpi_peer.pull_partner",
    "ocpi_peer.move_party",
    "ocpi_peer.view_partner",
    "stations.add_evseidalias",
    "payments.issue_refund",
    "payments.export_settlement",
    "payments.view_ledgerentry",
    "payments.change_cpoterms",
    "payments.settle_cdr",
    "payments.unlock_connector",
    "payments.resolve_case",
    "payments.view_checkout",
    "admin.view_logentry",
]


ROLES = {
    "operations": {
        "ocpi_peer.manage_registration",
        "ocpi_peer.pull_partner",
        "ocpi_peer.move_party",
        "ocpi_peer.view_partner",
        "stations.add_evseidalias",
        "payments.resolve_case",
        "payments.view_checkout",
        "admin.view_logentry",
    },
    "finance": {
        "payments.issue_refund",
        "payments.export_settlement",
        "payments.view_ledgerentry",
        "payments.change_cpoterms",
        "payments.settle_cdr",
        "payments.view_checkout",
        "admin.view_logentry",
    },
    "support": {"payments.unlock_connector", "payments.resolve_case", "payments.view_checkout"},
}


def test_each_role_holds_only_its_jobs() -> None:
    users = {role: staff(role, role) for role in ROLES}
    may = {role: {job for job in JOBS if user.has_perm(job)} for role, user in users.items()}
    assert may == ROLES


def test_running_it_again_restores_what_is_missing_and_keeps_what_was_added() -> None:
    operations = Group.objects.get(name="operations")
    before = set(operations.permissions.values_list("pk", flat=True))
    move = Permission.objects.get(codename="move_party")
    extra = Permission.objects.get(codename="view_tariff", content_type__app_label="stations")
    operations.permissions.remove(move)
    support = Group.objects.get(name="support")
    support.permissions.add(extra)  # an operator's own grant

    roles_migration.create_roles(apps, None)

    assert set(operations.permissions.values_list("pk", flat=True)) == before
    assert support.permissions.filter(pk=extra.pk).exists()
    assert sorted(Group.objects.values_list("name", flat=True)) == [
        "finance",
        "operations",
        "support",
    ]
