"""Hostile and broken input from a driver's browser, a kiosk or an app: each is a clear 4xx
page or JSON error, nothing is stored, and a charger whose stored tariff cannot be computed
with still has its page. Never a 500."""

import copy

import pytest
from django.test import Client

from payments.models import Checkout
from stations.models import Tariff
from tests.payments.charger import EVSE_ID, TARIFF, charger

pytestmark = pytest.mark.django_db


@pytest.fixture
def driver() -> Client:
    """A client that gets the 500 page a driver would get, rather than the exception."""
    return Client(raise_request_exception=False)


BODIES = {
    "arrays nested 2,000 deep": ("[" * 2_000 + "]" * 2_000, 400, "nested deeper"),
    "objects nested 500 deep": ('{"a":' * 500 + "1" + "}" * 500, 400, "nested deeper"),
    "5 MB": ('{"evse_id": "' + "x" * 5_000_000 + '"}', 413, "too large"),
    "20 kB": ('{"evse_id": "' + "x" * 20_000 + '"}', 413, "too large"),
    "a NaN": ('{"evse_id": NaN, "connector_id": "1"}', 400, "JSON parse error"),
    "a list": ("[1, 2]", 400, "Please check your input"),
    "a string": ('"DE*ABC*ELOC1"', 400, "Please check your input"),
}


@pytest.mark.parametrize("name", BODIES)
def test_it_refuses_a_checkout_body_of(name: str, driver: Client, stripe_settings) -> None:
    charger()
    body, status, detail = BODIES[name]
    answer = driver.post("/api/v1/checkouts", body, content_type="application/json")
    assert answer.status_code == status and detail in answer.json()["detail"]
    assert not Checkout.objects.exists()


def test_it_refuses_a_checkout_body_that_is_not_utf_8(driver: Client, stripe_settings) -> None:
    charger()
    answer = driver.post(
        "/api/v1/checkouts", b'{"evse_id": "\xff"}', content_type="application/json"
    )
    assert answer.status_code == 400 and answer.json()["error"] == "parse_error"
    assert not Checkout.objects.exists()


@pytest.mark.parametrize("typed", ["//x", "\x00", "€€", "a" * 5000, "<script>"])
def test_an_id_typed_in_the_box_that_names_no_charger_is_a_404_page(
    typed: str, driver: Client
) -> None:
    page = driver.get("/charge/", {"evse_id": typed}, follow=True)
    assert page.status_code == 404
    assert "Find your charger" in page.content.decode()


def test_an_id_typed_with_slashes_finds_the_charger(driver: Client, stripe_settings) -> None:
    charger()
    page = driver.get("/charge/", {"evse_id": "DE/ABC/ELOC1"}, follow=True)
    assert page.status_code == 200 and page.redirect_chain[-1][0] == "/charge/DEABCELOC1/"


@pytest.mark.parametrize("public_id", ["%00", "x" * 300, "a%20b", "a.b"])
def test_a_checkout_id_that_cannot_be_one_is_not_found(public_id: str, driver: Client) -> None:
    for page in (f"/checkout/{public_id}/", f"/checkout/{public_id}/receipt/"):
        assert driver.get(page).status_code == 404
    api = driver.get(f"/api/v1/checkouts/{public_id}")
    assert api.status_code == 404 and api.json()["error"] == "unknown_checkout"
    for action in ("pay", "confirm", "stop"):
        answer = driver.post(
            f"/api/v1/checkouts/{public_id}/{action}",
            {"payment_method": "pm_card_visa"},
            content_type="application/json",
        )
        assert answer.status_code == 404 and answer.json()["error"] == "unknown_checkout"


def stored_before_numbers_were_bounded(price: str) -> None:
    """A tariff as a push stored it before its numbers were checked: what the receiver now
    refuses may still be in the database."""
    elements = copy.deepcopy(TARIFF["elements"])
    elements[1]["price_components"][0]["price"] = price
    for element in elements:
        for component in element["price_components"]:
            component["price"], component["vat"] = str(component["price"]), str(component["vat"])
    Tariff.objects.update(elements=elements)


@pytest.mark.parametrize("price", ["1E+1000", "-1E+1000", "1E+100"])
def test_a_charger_whose_stored_price_cannot_be_computed_still_has_its_page(
    price: str, driver: Client, admin_client: Client, stripe_settings
) -> None:
    charger()
    stored_before_numbers_were_bounded(price)
    page = driver.get(f"/charge/{EVSE_ID}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and 'id="pay"' not in page.content.decode()
    api = driver.get(f"/api/v1/evses/{EVSE_ID}").json()
    assert api["payable"] is False and api["connectors"][0]["tariff"]["unpriceable_reason"]
    answer = driver.post(
        "/api/v1/checkouts",
        {"evse_id": EVSE_ID, "connector_id": "1"},
        content_type="application/json",
    )
    assert answer.status_code == 409 and not Checkout.objects.exists()
    admin_client.raise_request_exception = False
    listed = admin_client.get("/admin/stations/tariff/")
    assert listed.status_code == 200 and "cannot be shown" in listed.content.decode()
    pk = Tariff.objects.get().pk
    assert admin_client.get(f"/admin/stations/tariff/{pk}/change/").status_code == 200
