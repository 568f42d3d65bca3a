"""Every official OCPI 2.3.0 example of the modules we speak parses with the 2.3.0 serializers and
comes back as it went in: tariffs and locations as we store and serve them, CDRs and Sessions
pushed over HTTP by a 2.3.0 CPO and read back, credentials and version information as we
read and write them. (Tokens: we are their Sender and read none; see the simulator's tests.)

Known quirks of the examples, and what we do with them:
- `tariff_put_example.json` has no `last_updated`: refused, as in 2.2.1.
- `cdr_example.json`'s own tariff lacks the required `tax_included`: read as NO.
- `credentials_example3.json`'s business details carry a logo, which we do not keep.
- `session_example_2_short_finished.json`'s ENERGY volumes are in Wh (B-4): stored as sent.
"""

import copy
from decimal import Decimal
from typing import Any

import pytest
import simplejson
from rest_framework.exceptions import ValidationError

from ocpi_peer import versions
from ocpi_peer.models import Partner
from ocpi_peer.transport import dumps
from ocpi_peer.versions.fields import VersionSerializer
from payments.models import Cdr, ChargingSession
from stations import selectors, services, tariffs
from stations.models import Tariff
from stations.pricing import Price
from tests.ocpi.examples import example, example_names, meaningful

V230 = versions.get("2.3.0")
D = Decimal


def ex(name: str) -> Any:
    return example(name, "2.3.0")


# --- tariffs and locations: read, stored, served ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    [n for n in example_names("tariff*.json", "2.3.0") if n != "tariff_put_example.json"],
)
def test_it_round_trips_every_230_tariff_example(name: str) -> None:
    data = ex(name)
    parsed = V230.read(V230.tariff, copy.deepcopy(data))
    partner = Partner.objects.create(name="Examples")
    services.store_tariffs(
        partner=partner, items=[(parsed.pop("country_code"), parsed.pop("party_id"), parsed)]
    )
    stored = Tariff.objects.get(ocpi_id=data["id"])
    assert stored.tax_included == data["tax_included"]
    assert meaningful(V230.tariff().to_representation(stored)) == meaningful(data)


@pytest.mark.django_db
def test_a_230_tariff_keeps_its_preauthorize_amount_and_price_limits() -> None:
    data = {
        **ex("tariff_6_025kwh_start_max_price.json"),
        "preauthorize_amount": D("25.00"),
        "min_price": {"before_taxes": D("1.00")},
    }
    parsed = V230.read(V230.tariff, copy.deepcopy(data))
    services.store_tariffs(
        partner=Partner.objects.create(name="Examples"),
        items=[(parsed.pop("country_code"), parsed.pop("party_id"), parsed)],
    )
    stored = Tariff.objects.get(ocpi_id=data["id"])
    assert (stored.max_price_excl_vat, stored.max_price_incl_vat) == (D(10), D(11))
    assert (stored.min_price_excl_vat, stored.min_price_incl_vat) == (D(1), None)
    assert stored.preauthorize_amount == D(25)
    assert meaningful(V230.tariff().to_representation(stored)) == meaningful(data)


def test_a_230_tariff_without_tax_included_is_refused() -> None:
    data = {k: v for k, v in ex("tariff_1_simple_2hour.json").items() if k != "tax_included"}
    with pytest.raises(ValidationError, match="tax_included"):
        V230.read(V230.tariff, data)


def test_the_put_example_without_last_updated_is_refused() -> None:
    with pytest.raises(ValidationError, match="last_updated"):
        V230.read(V230.tariff, ex("tariff_put_example.json"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", example_names("location_example*.json", "2.3.0"))
def test_it_round_trips_every_230_location_example(name: str) -> None:
    data = ex(name)
    partner = Partner.objects.create(name="Examples")
    parsed = V230.read(V230.location, copy.deepcopy(data))
    services.store_locations(
        partner=partner,
        country_code=parsed.pop("country_code"),
        party_id=parsed.pop("party_id"),
        locations=[parsed],
    )
    stored = selectors.location_object(
        partner, data["country_code"], data["party_id"], data["id"], None, None
    )
    assert meaningful(V230.location().to_representation(stored)) == meaningful(data)


@pytest.mark.parametrize(
    ("name", "serializer"),
    [
        ("location_patch_example_location.json", "location"),
        ("location_patch_example_status.json", "evse"),
        ("location_patch_example_remove_evse.json", "evse"),
        ("location_patch_example_tariff.json", "connector"),
    ],
)
def test_every_230_location_patch_example_reads_as_a_patch(name: str, serializer: str) -> None:
    data = ex(name)
    changes = V230.read_patch(getattr(V230, serializer), copy.deepcopy(data))
    assert changes["last_updated"].isoformat().startswith(data["last_updated"][:19])
    assert set(changes) == set(data)


# --- sessions and CDRs: pushed by a 2.3.0 CPO and read back --------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("name", "excl", "incl"),
    [
        ("session_example_1_simple_start.json", "2.5", "2.5"),
        ("session_example_2_short_finished.json", "8.50", "9.35"),
    ],
)
def test_it_round_trips_every_230_session_example(
    connected_cpo: Any, name: str, excl: str, incl: str
) -> None:
    data = ex(name)
    cpo = connected_cpo(
        version="2.3.0", country_code=data["country_code"], party_id=data["party_id"]
    )
    path = f"sessions/{data['country_code']}/{data['party_id']}/{data['id']}"
    answer = cpo.call_us("PUT", path, content=dumps(data))
    assert answer.json()["status_code"] == 1000, answer.text
    session = ChargingSession.objects.get(session_id=data["id"])
    assert (session.total_cost_excl_vat, session.total_cost_incl_vat) == (D(excl), D(incl))
    back = simplejson.loads(cpo.call_us("GET", path).text, use_decimal=True)["data"]
    assert meaningful(back) == meaningful(data)


@pytest.mark.django_db(transaction=True)
def test_every_230_session_patch_example_updates_the_session(connected_cpo: Any) -> None:
    data = ex("session_example_2_short_finished.json")
    cpo = connected_cpo(version="2.3.0", country_code="BE", party_id="BEC")
    path = f"sessions/BE/BEC/{data['id']}"
    assert cpo.call_us("PUT", path, content=dumps(data)).json()["status_code"] == 1000
    for name, excl, incl in (
        ("session_patch_example_total_cost.json", "0.60", "0.66"),
        ("session_patch_example_charging_period.json", "0.80", "0.88"),
    ):
        patch = ex(name)
        patch["last_updated"] = "2029-01-01T00:00:00Z"  # newer than the example session
        answer = cpo.call_us("PATCH", path, content=dumps(patch))
        assert answer.json()["status_code"] == 1000, answer.text
        session = ChargingSession.objects.get(session_id=data["id"])
        assert (session.total_cost_excl_vat, session.total_cost_incl_vat) == (D(excl), D(incl))


@pytest.mark.django_db(transaction=True)
def test_it_round_trips_the_230_cdr_example_and_reads_its_taxes(connected_cpo: Any) -> None:
    data = ex("cdr_example.json")
    cpo = connected_cpo(version="2.3.0", country_code="BE", party_id="BEC")
    answer = cpo.call_us("POST", "cdrs", content=dumps(data))
    assert answer.status_code == 201, answer.text
    cdr = Cdr.objects.get(cdr_id=data["id"])
    assert (cdr.total_cost_excl_vat, cdr.total_cost_incl_vat) == (D("4.00"), D("4.40"))
    back = simplejson.loads(cpo.call_us("GET", answer.headers["Location"]).text, use_decimal=True)
    assert meaningful(back["data"]) == meaningful(data)


def test_the_230_cdr_example_prices_to_its_own_total() -> None:
    """1.973 h at 2 €/h, 10 % VAT, step 300 s: 4.00 before taxes, 4.40 after (TA-03)."""
    cdr = tariffs.cdr_pricing(V230.read(V230.cdr_pricing, ex("cdr_example.json")))
    assert cdr.total_cost == Price(D("4.00"), D("4.40"))
    check = tariffs.check_cdr(cdr, cdr.tariffs["12"], tariff_id="12")
    assert check.cost.total == Price(D("4.00"), D("4.40"))
    assert check.difference == Price(D(0), D(0))


# --- credentials and versions ---------------------------------------------------------------


@pytest.mark.parametrize("name", example_names("credentials_example*.json", "2.3.0"))
def test_it_round_trips_every_230_credentials_example(name: str) -> None:
    data = ex(name)
    read = V230.read(V230.credentials, copy.deepcopy(data))
    written = V230.write_credentials(token=read.token, url=read.url, parties=list(read.parties))
    for role in data["roles"]:
        role["business_details"].pop("logo", None)  # not kept
    assert meaningful(written) == meaningful(data)


@pytest.mark.parametrize(
    "name", ["versions_info_example.json", "transport_and_format_version_info_example.json"]
)
def test_every_230_versions_example_parses(name: str) -> None:
    data = ex(name)
    listed = data["data"] if "status_code" in data else data
    read = [V230.read(VersionSerializer, item) for item in listed]
    assert [v["version"] for v in read] == [item["version"] for item in listed]


@pytest.mark.parametrize(
    "name",
    [
        "version_details_example.json",
        "version_details_example2.json",
        "transport_and_format_version_details_example.json",
    ],
)
def test_every_230_version_details_example_round_trips(name: str) -> None:
    data = ex(name)
    details = data["data"] if "status_code" in data else data
    endpoints = V230.read_endpoints(details)
    written = [V230.write_endpoint(module=e.module, role=e.role, url=e.url) for e in endpoints]
    assert written == details["endpoints"]


def test_a_230_price_without_before_taxes_is_refused_even_in_a_patch() -> None:
    patch = {"total_cost": {"taxes": [{"name": "VAT", "amount": D("0.06")}]}}
    with pytest.raises(ValidationError, match="before_taxes"):
        V230.read_patch(V230.session, {**patch, "last_updated": "2029-01-01T00:00:00Z"})
