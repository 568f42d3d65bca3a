"""The migration that makes party ownership data keeps today's connections: each party goes to
the connection listing it (the older one, a registered one first, when several do), and the
operator is told of every party a connection loses."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("ocpi_peer", "0005_syncstate")]
AFTER = [("ocpi_peer", "0006_party_ownership")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def test_two_connections_listing_one_party_leave_it_with_the_older(
    capsys: pytest.CaptureFixture[str],
) -> None:
    apps = _migrate(BEFORE).loader.project_state(BEFORE).apps
    Partner = apps.get_model("ocpi_peer", "Partner")
    PartnerParty = apps.get_model("ocpi_peer", "PartnerParty")
    now = timezone.now()
    older = Partner.objects.create(name="Older", status="registered", created_at=now)
    newer = Partner.objects.create(
        name="Newer", status="registered", created_at=now + timedelta(days=1)
    )
    gone = Partner.objects.create(name="Gone", status="unregistered", created_at=now)
    later = Partner.objects.create(
        name="Came back", status="registered", created_at=now + timedelta(days=2)
    )
    for partner, party in [
        (newer, "SIM"),
        (older, "SIM"),
        (newer, "TWO"),
        (gone, "BAK"),
        (later, "BAK"),
    ]:
        PartnerParty.objects.create(partner=partner, role="CPO", country_code="NL", party_id=party)
    try:
        apps = _migrate(AFTER).loader.project_state(AFTER).apps
        owners = {
            row.party_id: row.partner.name
            for row in apps.get_model("ocpi_peer", "PartyOwnership").objects.all()
        }
        assert owners == {"SIM": "Older", "TWO": "Newer", "BAK": "Came back"}
        keys = dict(
            apps.get_model("ocpi_peer", "Partner").objects.values_list("name", "party_keys")
        )
        assert keys == {
            "Older": ["NL*SIM"],
            "Newer": ["NL*TWO"],
            "Gone": [],
            "Came back": ["NL*BAK"],
        }
        refused = apps.get_model("ocpi_peer", "PartyEvent").objects.filter(kind="refused")
        assert sorted(refused.values_list("party_id", "partner_name", "owner__name")) == [
            ("BAK", "Gone", "Came back"),
            ("SIM", "Newer", "Older"),
        ]
        assert "NL*SIM was listed by Older" in capsys.readouterr().out
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
