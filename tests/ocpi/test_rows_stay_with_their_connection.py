"""Locations, tariffs, sessions and CDRs stay with the connection that holds them: a connection
that now owns their party (e.g. data from before ownership was kept) can neither read nor move
them; only an operator's party move does."""

import copy
from typing import Any

import pytest
import simplejson

from ocpi_peer import sync, versions
from ocpi_peer.models import Partner
from ocpi_peer.transport import dumps
from payments import charging, settlement
from payments.models import Cdr, ChargingSession
from payments.ocpi import pulls
from stations import services
from stations.models import Evse, Location, Tariff
from tests.ocpi.examples import example

pytestmark = pytest.mark.django_db(transaction=True)

SPEC = versions.get("2.2.1")


def _ours(name: str) -> dict[str, Any]:
    return {**copy.deepcopy(example(name)), "country_code": "NL", "party_id": "SIM"}


def _location() -> dict[str, Any]:
    return {**_ours("location_example.json"), "id": "LOC1"}


def _tariff() -> dict[str, Any]:
    return {**_ours("tariff_4_complex.json"), "id": "14"}


def _session() -> dict[str, Any]:
    return {**_ours("session_example_2_short_finished.json"), "id": "S1"}


def _cdr() -> dict[str, Any]:
    return {**_ours("cdr_example.json"), "id": "CDR1"}


def _held_by(holder: Partner) -> None:
    """The old holder's rows of NL*SIM, written as its own pushes would write them."""
    _, location = versions.read_owned(SPEC, SPEC.location, _location(), party=("NL", "SIM"))
    services.store_locations(
        partner=holder, country_code="NL", party_id="SIM", locations=[location]
    )
    _, tariff = versions.read_owned(SPEC, SPEC.tariff, _tariff(), party=("NL", "SIM"))
    services.store_tariffs(partner=holder, items=[("NL", "SIM", tariff)])
    _, session = versions.read_owned(SPEC, SPEC.session, _session(), party=("NL", "SIM"))
    session.pop("session_id")
    charging.record_session(
        partner=holder,
        country_code="NL",
        party_id="SIM",
        session_id="S1",
        data=session,
        patch=False,
    )
    owner, cdr = versions.read_owned(SPEC, SPEC.cdr, _cdr())
    canonical = simplejson.dumps(_cdr(), sort_keys=True)
    settlement.record_cdr(
        partner=holder,
        version="2.2.1",
        fields={**cdr, "country_code": owner[0], "party_id": owner[1]},
        body=canonical,
        canonical=canonical,
    )


def _rows() -> list[Any]:
    return [
        sorted(Location.objects.values_list("ocpi_id", "partner", "last_updated", "name")),
        sorted(Evse.objects.values_list("uid", "status", "last_updated")),
        sorted(Tariff.objects.values_list("ocpi_id", "partner", "last_updated", "deleted_at")),
        sorted(ChargingSession.objects.values_list("session_id", "partner", "status", "kwh")),
        sorted(Cdr.objects.values_list("cdr_id", "partner", "content_hash")),
    ]


def _refused(response: Any) -> bool:
    """Not found for them: 2001/2003 for a write, 2000 for a read (as for any unknown object)."""
    return response.status_code == 404 and response.json()["status_code"] in (2000, 2001, 2003)


def test_a_connection_cannot_move_or_read_another_connections_rows(connected_cpo) -> None:
    holder = Partner.objects.create(name="Old holder", status=Partner.Status.REGISTERED)
    _held_by(holder)
    before = _rows()
    cpo = connected_cpo()  # registers as NL*SIM, a party nobody owned yet
    later = "2030-01-01T00:00:00Z"
    attempts = [
        cpo.call_us("PUT", "locations/NL/SIM/LOC1", json={**_location(), "last_updated": later}),
        cpo.call_us("PATCH", "locations/NL/SIM/LOC1", json={"name": "Mine", "last_updated": later}),
        cpo.call_us(
            "PATCH", "locations/NL/SIM/LOC1/3256", json={"status": "BLOCKED", "last_updated": later}
        ),
        cpo.call_us("GET", "locations/NL/SIM/LOC1"),
        cpo.call_us(
            "PUT", "tariffs/NL/SIM/14", content=dumps({**_tariff(), "last_updated": later})
        ),
        cpo.call_us("DELETE", "tariffs/NL/SIM/14"),
        cpo.call_us("GET", "tariffs/NL/SIM/14"),
        cpo.call_us(
            "PUT",
            "sessions/NL/SIM/S1",
            content=dumps({**_session(), "status": "INVALID", "last_updated": later}),
        ),
        cpo.call_us("PATCH", "sessions/NL/SIM/S1", json={"kwh": 99, "last_updated": later}),
        cpo.call_us("GET", "sessions/NL/SIM/S1"),
        cpo.call_us("POST", "cdrs", content=dumps({**_cdr(), "total_energy": 99})),
        cpo.call_us("GET", "cdrs/NL/SIM/CDR1"),
    ]
    assert [
        (r.request.method, r.request.url.path, r.text) for r in attempts if not _refused(r)
    ] == []
    assert _rows() == before


def test_a_pulled_page_leaves_another_connections_rows_alone() -> None:
    holder = Partner.objects.create(name="Old holder")
    puller = Partner.objects.create(name="Puller")
    _held_by(holder)
    before = _rows()
    _, location = versions.read_owned(SPEC, SPEC.location, _location(), party=("NL", "SIM"))
    _, fresh = versions.read_owned(SPEC, SPEC.location, _location(), party=("NL", "SIM"))
    fresh["ocpi_id"] = "LOC2"
    location["name"] = "Mine"
    created, written = services.store_locations(
        partner=puller,
        country_code="NL",
        party_id="SIM",
        locations=[location, fresh],
        skip_foreign=True,
    )
    assert (created, written) == (1, 1)  # its own new one only
    assert Location.objects.get(ocpi_id="LOC1").partner == holder
    assert Location.objects.get(ocpi_id="LOC2").partner == puller
    assert _rows()[2:] == before[2:]


def test_a_pulled_session_another_connection_holds_stays_with_it() -> None:
    holder = Partner.objects.create(name="Old holder")
    puller = Partner.objects.create(name="Puller")
    _held_by(holder)
    before = _rows()
    newer = {**_session(), "status": "INVALID", "last_updated": "2030-01-01T00:00:00Z"}
    _, session = versions.read_owned(SPEC, SPEC.session, newer, party=("NL", "SIM"))
    pulled = sync.Pulled(country_code="NL", party_id="SIM", fields=session, raw=newer)
    assert pulls.store_sessions(puller, [pulled]) == 0
    assert _rows() == before
