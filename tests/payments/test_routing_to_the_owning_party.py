"""A connection that carries several CPO parties (a hub, a CPMS hosting many) routes each call
by the OCPI-to-* headers: the driver's token and the START/STOP_SESSION name the party that owns
the charger, not the connection's first party; lists we pull name the connection.

The simulator presents one CPO role per connection, so the second party comes to it the way an
operator gives one: DE*ABC registers on its own connection and is moved to NL*SIM's."""

import copy

import httpx
import pytest

from ocpi_peer import sync
from ocpi_peer.models import Partner, PartnerParty
from ocpi_peer.parties import move_party
from tests.payments.charging import pay, push_stations, reaches
from tests.payments.stickers import connected

pytestmark = pytest.mark.django_db(transaction=True)

LATER = "2030-01-01T00:00:00Z"


def publish_for(cpo, country_code: str, party_id: str) -> str:
    """`cpo` PUTs its first location and its tariffs under another party it holds, with EVSE IDs
    of that party's operator; returns the first EVSE's ID."""
    for tariff_id in ("TARIFF-AC", "TARIFF-DC"):
        tariff = {**cpo.tariff(tariff_id), "country_code": country_code, "party_id": party_id}
        answer = cpo.call_us("PUT", f"tariffs/{country_code}/{party_id}/{tariff_id}", json=tariff)
        assert answer.json()["status_code"] == 1000, answer.text
    location = copy.deepcopy(cpo.location(0))
    location |= {"country_code": country_code, "party_id": party_id, "last_updated": LATER}
    for number, evse in enumerate(location["evses"], start=1):
        evse["evse_id"] = f"{country_code}*{party_id}*E{number}"
    url = f"locations/{country_code}/{party_id}/{location['id']}"
    answer = cpo.call_us("PUT", url, json=location)
    assert answer.json()["status_code"] == 1000, answer.text
    return location["evses"][0]["evse_id"]


def routed_to(request) -> tuple[str | None, str | None]:
    return request.headers.get("OCPI-to-country-code"), request.headers.get("OCPI-to-party-id")


def test_the_token_push_and_the_commands_name_the_party_that_owns_the_charger(
    cpo_simulator, ocpi_base, live_server, stripe_settings, eager_tasks, settings
) -> None:
    cpms = connected(
        cpo_simulator, ocpi_base, partner_name="CPMS", location_count=1, update_interval=0.2
    )
    connected(cpo_simulator, ocpi_base, partner_name="ABC", party_id="ABC", country_code="DE")
    move_party(country_code="DE", party_id="ABC", to=Partner.objects.get(name="CPMS"), by="test")
    evse_id = publish_for(cpms, "DE", "ABC")

    checkout = pay(live_server.url, stripe_settings, evse_id)
    checkout = reaches(checkout, "charging")
    stopped = httpx.post(f"{live_server.url}/api/v1/checkouts/{checkout.public_id}/stop")
    assert stopped.status_code == 202
    reaches(checkout, "finished")

    token_pushes = [r for r in cpms.requests if r.method == "PUT" and "/tokens/" in r.path]
    commands = [r for r in cpms.requests if r.method == "POST" and "/commands/" in r.path]
    assert token_pushes and [r.path.rsplit("/", 1)[-1] for r in commands] == [
        "START_SESSION",
        "STOP_SESSION",
    ]
    assert all(routed_to(r) == ("DE", "ABC") for r in token_pushes + commands)
    assert all(r.headers["OCPI-from-party-id"] == settings.OCPI_PARTY_ID for r in commands)

    sync.pull(partner_id=Partner.objects.get(name="CPMS").pk, module="locations", full=True)
    (listed,) = [r for r in cpms.requests if r.method == "GET" and r.path.endswith("/locations")]
    assert routed_to(listed) == ("NL", "SIM")  # a list is asked of the connection


def test_the_connections_own_party_is_still_named_for_its_own_chargers(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1)
    pay(live_server.url, stripe_settings, push_stations(cpo))
    (start,) = [r for r in cpo.requests if r.path.endswith("/commands/START_SESSION")]
    assert routed_to(start) == ("NL", "SIM")


def test_a_hub_connection_is_named_on_lists_and_the_owning_party_on_commands(
    cpo_simulator, ocpi_base, live_server, stripe_settings, eager_tasks
) -> None:
    """The simulator cannot present a HUB role in its credentials: the role a hub's credentials
    would give the connection is added to it here."""
    hub = connected(cpo_simulator, ocpi_base, partner_name="Hub", location_count=1)
    partner = Partner.objects.get(name="Hub")
    PartnerParty.objects.create(partner=partner, role="HUB", country_code="EU", party_id="HUB")
    checkout = pay(live_server.url, stripe_settings, push_stations(hub))
    (start,) = [r for r in hub.requests if r.path.endswith("/commands/START_SESSION")]
    assert routed_to(start) == ("NL", "SIM") and checkout.evse.location.party_id == "SIM"
    sync.pull(partner_id=partner.pk, module="locations", full=True)
    (listed,) = [r for r in hub.requests if r.method == "GET" and r.path.endswith("/locations")]
    assert routed_to(listed) == ("EU", "HUB")
