"""The driver's whole visit (pay, start, session, CDR, capture, receipt) at chargers of two CPO
parties behind one connection, over real HTTP: a roaming hub whose credentials name only itself
(the parties are claimed as they are first seen, from the hub's ClientInfo), and a CPMS hosting
both parties without a hub. The simulated front refuses any functional call without the four
routing headers or to a party it does not serve; the tests read the headers of every call it
received as well."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.conf import settings

from cpo_simulator import CpoSimulator, HubSimulator
from ocpi_peer.models import Partner, PartyEvent, PartyOwnership
from ocpi_peer.registration import invite_partner
from payments.models import Checkout
from tests.payments.charging import pay, push_stations, reaches

pytestmark = pytest.mark.django_db(transaction=True)

HUB = ("DE", "HUB", "Simulated Hub")
PARTIES = (("NL", "AAA", "Alpha Charging"), ("NL", "BBB", "Beta Laden"))
FUNCTIONAL = ("locations", "tariffs", "sessions", "cdrs", "tokens", "commands")

StartFront = Callable[..., HubSimulator]


@pytest.fixture
def front(ocpi_base: str) -> Iterator[StartFront]:
    """Starts a hub (or, with `hub=None`, a two-party CPMS) registered with us; stopped after."""
    started: list[HubSimulator] = []

    def start(*, hub: tuple[str, str, str] | None = HUB, **options: Any) -> HubSimulator:
        members = [
            CpoSimulator(
                country_code=cc,
                party_id=pid,
                name=name,
                location_count=1,
                update_interval=0.2,
                **options,
            )
            for cc, pid, name in PARTIES
        ]
        simulator = HubSimulator(members, hub=hub).start()
        started.append(simulator)
        _, token_a = invite_partner(name="Roaming hub" if hub else "Two-party CPMS")
        answer = simulator.register_with(f"{ocpi_base}/versions", token_a)
        assert answer.json()["status_code"] == 1000, answer.text
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


def visit(live_server: Any, fake: Any, member: CpoSimulator) -> Checkout:
    """A driver pays at the member's first EVSE, charges, the car leaves, the CDR settles it."""
    evse_id = push_stations(member)
    checkout = reaches(pay(live_server.url, fake, evse_id), "charging")
    member.end_session(member.wait_for_session("ACTIVE")["id"])
    return reaches(checkout, "settled")


def receipt_of(live_server: Any, checkout: Checkout) -> str:
    page = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/")
    assert page.status_code == 200
    return page.text


def routing_of(request: Any) -> tuple[tuple[str, str], tuple[str, str]]:
    headers = request.headers
    return (
        (headers.get("OCPI-from-country-code"), headers.get("OCPI-from-party-id")),
        (headers.get("OCPI-to-country-code"), headers.get("OCPI-to-party-id")),
    )


def functional_calls(simulator: HubSimulator, since: int = 0) -> list[Any]:
    return [
        r
        for r in simulator.requests[since:]
        if len(r.path.split("/")) > 3 and r.path.split("/")[3] in FUNCTIONAL
    ]


def test_a_driver_pays_charges_and_gets_a_receipt_at_both_parties_behind_a_hub(
    front: StartFront, live_server, stripe_settings, eager_tasks
) -> None:
    hub = front()
    partner = Partner.objects.get(name="Roaming hub")
    assert sorted(PartyOwnership.objects.filter(partner=partner).values_list("party_id")) == [
        ("AAA",),
        ("BBB",),
        ("HUB",),
    ]
    claims = PartyEvent.objects.filter(kind=PartyEvent.Kind.CLAIMED, partner=partner)
    assert {e.party_id for e in claims if "through the hub" in e.by} == {"AAA", "BBB"}

    ours = (settings.OCPI_COUNTRY_CODE, settings.OCPI_PARTY_ID)
    for member in hub.members:
        seen = len(hub.requests)
        checkout = visit(live_server, stripe_settings, member)
        assert checkout.cdrs.get().country_code == member.country_code
        html = receipt_of(live_server, checkout)
        assert f"{member.country_code}*{member.party_id}" in html
        assert checkout.authorization_reference in html
        # What we sent the hub for this visit: the token and the commands go to the party that
        # owns the charger, from us, and the hub took every one of them.
        calls = functional_calls(hub, seen)
        assert {r.path.split("/")[3] for r in calls} >= {"tokens", "commands"}
        for request in calls:
            assert routing_of(request) == (ours, (member.country_code, member.party_id))
            assert request.status in (200, 201)
        # The member's own pushes reached us from it, through the hub's connection.
        assert checkout.sessions.get().partner_id == partner.pk


def test_the_lists_we_pull_from_a_hub_name_the_hub_and_bring_every_party(
    front: StartFront, live_server
) -> None:
    from ocpi_peer import sync
    from stations.models import Location

    hub = front()
    partner = Partner.objects.get(name="Roaming hub")
    seen = len(hub.requests)
    assert sync.pull(partner_id=partner.pk, module="locations").rejected == 0
    stored = Location.objects.filter(partner=partner)
    assert sorted(stored.values_list("party_id", flat=True)) == ["AAA", "BBB"]
    pulls = functional_calls(hub, seen)
    assert pulls and all(routing_of(r)[1] == ("DE", "HUB") for r in pulls)
    assert all(r.status == 200 for r in pulls)


def test_the_hubs_client_info_list_is_pulled_and_an_offline_party_is_not_payable(
    front: StartFront, live_server, stripe_settings, eager_tasks
) -> None:
    from ocpi_peer import parties, sync

    hub = front()
    partner = Partner.objects.get(name="Roaming hub")
    alpha, beta = hub.members
    beta_evse = push_stations(beta)
    alpha_evse = push_stations(alpha)
    # The hub's push is lost; the pull of its ClientInfo list brings the news anyway.
    with hub.lock:
        hub.peer.state.emsp_endpoints.pop("hubclientinfo", None)
    hub.set_client_status(beta, "OFFLINE")
    assert sync.pull(partner_id=partner.pk, module="hubclientinfo").written >= 1
    info = parties.client_info(partner=partner, country_code="NL", party_id="BBB")
    assert info is not None and info.status == "OFFLINE"

    refused = httpx.post(
        f"{live_server.url}/api/v1/checkouts", json={"evse_id": beta_evse, "connector_id": "1"}
    )
    assert refused.status_code == 409, refused.text
    assert not Checkout.objects.exists()
    accepted = httpx.post(
        f"{live_server.url}/api/v1/checkouts", json={"evse_id": alpha_evse, "connector_id": "1"}
    )
    assert accepted.status_code == 201, accepted.text


def test_the_driver_is_told_which_party_runs_a_charger_behind_a_hub(
    front: StartFront, live_server
) -> None:
    from payments.models import CpoTerms

    alpha, beta = front().members
    alpha_evse, beta_evse = push_stations(alpha), push_stations(beta)
    CpoTerms.objects.create(
        country_code="NL", party_id="AAA", default_hold=Decimal("30.00"), legal_name="Alpha B.V."
    )

    def operator(evse_id: str) -> str:
        return httpx.get(f"{live_server.url}/api/v1/evses/{evse_id}").json()["location"]["operator"]

    assert operator(alpha_evse) == "Alpha B.V."
    # No terms yet: the party's id and the hub it comes through, never the hub's name alone.
    assert operator(beta_evse) == "NL*BBB via Roaming hub"


def test_a_hub_cannot_bring_a_party_another_connection_holds(
    front: StartFront, connected_cpo, live_server
) -> None:
    from payments.models import Case
    from stations.models import Location

    direct = connected_cpo(country_code="NL", party_id="CCC", name="Direct CPO", location_count=1)
    push_stations(direct)
    hub = front()
    location = {**direct.location(0), "last_updated": "2030-01-01T00:00:00Z"}
    for _ in range(3):
        answer = hub.call_us("PUT", f"locations/NL/CCC/{location['id']}", json=location)
        assert answer.status_code == 404 and answer.json()["status_code"] == 2001
    assert set(Location.objects.values_list("partner__name", flat=True)) == {"Direct CPO"}
    owner = PartyOwnership.objects.get(party_id="CCC")
    assert owner.partner.name == "Direct CPO"
    # The operator hears of it once, not per push.
    assert PartyEvent.objects.filter(kind=PartyEvent.Kind.REFUSED, party_id="CCC").count() == 1
    assert Case.objects.filter(kind=Case.Kind.REFUSED_CLAIM).count() == 1


def test_a_driver_pays_at_both_parties_of_a_cpms_and_we_pull_each_partys_list(
    front: StartFront, live_server, stripe_settings, eager_tasks
) -> None:
    from ocpi_peer import sync
    from stations.models import Location

    cpms = front(hub=None)
    partner = Partner.objects.get(name="Two-party CPMS")
    assert sorted(partner.party_keys) == ["NL*AAA", "NL*BBB"]
    # Such a CPMS answers a list only for the party it is addressed to: we ask each in turn.
    assert sync.pull(partner_id=partner.pk, module="locations").rejected == 0
    assert sorted(Location.objects.values_list("party_id", flat=True)) == ["AAA", "BBB"]
    asked = sorted(routing_of(r)[1] for r in functional_calls(cpms))
    assert asked == [("NL", "AAA"), ("NL", "BBB")]

    ours = (settings.OCPI_COUNTRY_CODE, settings.OCPI_PARTY_ID)
    for member in cpms.members:
        seen = len(cpms.requests)
        checkout = visit(live_server, stripe_settings, member)
        assert f"{member.country_code}*{member.party_id}" in receipt_of(live_server, checkout)
        for request in functional_calls(cpms, seen):
            assert routing_of(request) == (ours, (member.country_code, member.party_id))
            assert request.status in (200, 201)
