"""Staff users in one of the operator roles (the groups migration payments 0014 creates), for
the tests of who may do what in the admin."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.contrib.auth.models import Group, User
from django.test import Client

PASSWORD = "pw-staff-user-1"

roles_migration = importlib.import_module("payments.migrations.0015_operator_roles")
meter_key_migration = importlib.import_module("payments.migrations.0018_meter_key")
terminal_migration = importlib.import_module("payments.migrations.0026_ptp_terminal_grants")


def ensure_roles() -> None:
    """The migration's own step, run again: a transactional test's flush empties the groups
    table, and the step is idempotent."""
    roles_migration.create_roles(apps, None)
    meter_key_migration.grant_meter_keys(apps, None)
    terminal_migration.grant_terminals(apps, None)


def staff(username: str, *groups: str, permissions: tuple[str, ...] = ()) -> User:
    """A staff user in `groups`, with `permissions` ("app.codename") of its own besides; with
    neither it may sign in to the admin and nothing else."""
    ensure_roles()
    user = User.objects.create_user(username, password=PASSWORD, is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(
            apps.get_model("auth", "Permission").objects.get(
                content_type__app_label=app_label, codename=codename
            )
        )
    assert user.groups.count() == len(groups)
    return user


def signed_in(username: str, *groups: str, permissions: tuple[str, ...] = ()) -> Client:
    """An admin session of a new staff user (see `staff`), in a client of its own."""
    client = Client()
    client.force_login(staff(username, *groups, permissions=permissions))
    return client
