"""We pull a CPO's locations page by page: first in full, then only what changed."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from ocpi_peer import sync
from ocpi_peer.client import PeerError
from ocpi_peer.models import SyncState
from ocpi_peer.registration import register_with_cpo
from stations.models import Connector, Evse, Location
from tests.conftest import StartCpo

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_a_full_pull_stores_every_location_evse_and_connector(
    cpo_simulator: StartCpo, version: str
) -> None:
    cpo = cpo_simulator(version=version, location_count=120, page_size=50)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    outcome = sync.pull(partner_id=partner.pk, module="locations")
    assert (outcome.received, outcome.written, outcome.rejected) == (120, 120, 0)
    assert Location.objects.count() == 120
    assert Evse.objects.count() == 240 and Connector.objects.count() == 480
    state = SyncState.objects.get(partner=partner, module="locations")
    assert state.last_ok and state.last_success_started_at is not None


def test_a_second_pull_asks_only_for_changes_and_writes_nothing(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(location_count=60, page_size=50)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    sync.pull(partner_id=partner.pk, module="locations")
    again = sync.pull(partner_id=partner.pk, module="locations")
    incremental = [r for r in cpo.requests if r.path.endswith("/locations")][-1]
    assert "date_from" in incremental.query
    assert again.written == 0
    full = sync.pull(partner_id=partner.pk, module="locations", full=True)
    assert (full.received, full.written) == (60, 0)  # unchanged objects write no row


def test_a_cpo_failing_during_a_pull_keeps_what_we_had(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(location_count=100, page_size=25)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    sync.pull(partner_id=partner.pk, module="locations")
    cpo.fault = "http500"
    with pytest.raises(PeerError):
        sync.pull(partner_id=partner.pk, module="locations", full=True)
    assert Location.objects.count() == 100
    state = SyncState.objects.get(partner=partner, module="locations")
    assert state.last_ok is False
    assert "answered" in state.last_result or "not an OCPI envelope" in state.last_result


def test_the_command_pulls_and_reports_json(cpo_simulator: StartCpo) -> None:
    cpo = cpo_simulator(location_count=7, page_size=5)
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    out = io.StringIO()
    call_command("ocpi_sync", "--partner", str(partner.pk), "--module", "locations", stdout=out)
    assert json.loads(out.getvalue()) == [
        {
            "partner_id": partner.pk,
            "module": "locations",
            "ok": True,
            "received": 7,
            "written": 7,
            "rejected": 0,
        }
    ]


def test_the_command_pulls_every_list_the_partner_offers_and_no_other(
    cpo_simulator: StartCpo,
) -> None:
    cpo = cpo_simulator(location_count=3)  # a CPO, not a hub: it has no ClientInfo list
    partner = register_with_cpo(versions_url=cpo.versions_url, token=cpo.token_a)
    out = io.StringIO()
    call_command("ocpi_sync", "--partner", str(partner.pk), stdout=out)
    pulled = json.loads(out.getvalue())
    assert [p["module"] for p in pulled] == ["locations", "tariffs", "sessions", "cdrs"]
    assert all(p["ok"] for p in pulled)


def test_the_command_fails_clearly_for_an_unknown_partner() -> None:
    with pytest.raises(CommandError, match="no partner 999"):
        call_command("ocpi_sync", "--partner", "999")
