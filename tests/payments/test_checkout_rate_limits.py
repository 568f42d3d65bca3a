"""Card testing is slowed per driver, not per proxy: the client address is read through the
proxies we trust (TRUSTED_PROXIES) and no others, an IPv6 driver counts per /64, and one
charger takes only so many checkouts from all addresses together."""

import pytest
from django.test import Client

from payments.models import Checkout
from tests.payments.charger import EVSE_ID, charger

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.5"


def start(client: Client, address: str, forwarded: str | None = None, **headers: str) -> dict:
    """A driver starts paying; the charger is let go at once, so that only the rate limits
    stand between one attempt and the next."""
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    response = client.post(
        "/api/v1/checkouts",
        {"evse_id": EVSE_ID, "connector_id": "1"},
        content_type="application/json",
        REMOTE_ADDR=address,
        **headers,
    )
    body = {**response.json(), "http": response.status_code}
    if response.status_code == 201:
        Checkout.objects.filter(public_id=body["id"]).update(evse_claim=None)
    return body


@pytest.fixture
def one_per_driver(settings, stripe_settings) -> None:
    settings.CHECKOUT_RATE_LIMIT = "1/10m"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    charger()


def test_it_counts_drivers_behind_a_trusted_proxy_each_on_their_own(
    client: Client, one_per_driver: None
) -> None:
    assert start(client, PROXY, "198.51.100.1")["http"] == 201
    assert start(client, PROXY, "198.51.100.2")["http"] == 201
    again = start(client, PROXY, "198.51.100.1")
    assert again["http"] == 429 and again["error"] == "rate_limited"
    assert "wait" in again["detail"]
    assert set(Checkout.objects.values_list("client_ip", flat=True)) == {
        "198.51.100.1",
        "198.51.100.2",
    }


def test_it_reads_the_address_the_nearest_trusted_proxy_saw_not_what_the_client_wrote(
    client: Client, one_per_driver: None
) -> None:
    # The client wrote the first entry; our two proxies appended the client's address and the
    # outer proxy's. A different forged first entry does not make a different driver.
    assert start(client, PROXY, "203.0.113.1, 198.51.100.1, 10.1.1.1")["http"] == 201
    assert start(client, PROXY, "203.0.113.2, 198.51.100.1, 10.1.1.1")["http"] == 429
    assert start(client, PROXY, "garbage, 198.51.100.1")["http"] == 429


def test_it_ignores_x_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy(
    client: Client, one_per_driver: None
) -> None:
    assert start(client, "192.0.2.1", "198.51.100.1")["http"] == 201
    forged = start(client, "192.0.2.1", "198.51.100.2")
    assert forged["http"] == 429
    assert Checkout.objects.get().client_ip == "192.0.2.1"


def test_it_does_not_believe_more_of_a_malformed_header(
    client: Client, one_per_driver: None
) -> None:
    # An entry that is no address stops the walk at the proxy that wrote it: the drivers behind
    # it share that proxy's bucket rather than choose their own.
    assert start(client, PROXY, "198.51.100.1, not-an-address")["http"] == 201
    assert start(client, PROXY, "198.51.100.2, not-an-address")["http"] == 429
    assert start(client, PROXY, "198.51.100.3")["http"] == 201
    assert set(Checkout.objects.values_list("client_ip", flat=True)) == {PROXY, "198.51.100.3"}


def test_it_takes_the_address_behind_ports_and_ipv4_mapped_ipv6_as_the_driver(
    client: Client, one_per_driver: None
) -> None:
    assert start(client, PROXY, "198.51.100.1:51234")["http"] == 201
    assert start(client, PROXY, "[::ffff:198.51.100.1]:443")["http"] == 429
    assert start(client, "::ffff:198.51.100.1")["http"] == 429
    assert Checkout.objects.get().client_ip == "198.51.100.1"


def test_it_counts_an_ipv6_driver_per_64_not_per_address(
    client: Client, one_per_driver: None
) -> None:
    assert start(client, "2001:db8:1:2::1")["http"] == 201
    assert start(client, "2001:db8:1:2:ffff:ffff:ffff:fffe")["http"] == 429
    assert start(client, PROXY, "2001:db8:1:2::99")["http"] == 429
    assert start(client, "2001:db8:1:3::1")["http"] == 201


def test_it_limits_one_charger_across_many_addresses_in_the_drivers_language(
    client: Client, settings, stripe_settings
) -> None:
    settings.CHECKOUT_RATE_LIMIT_PER_EVSE = "2/10m"
    charger()
    assert start(client, "192.0.2.1")["http"] == 201
    assert start(client, "192.0.2.2")["http"] == 201
    third = start(client, "192.0.2.3")
    assert third["http"] == 429 and third["error"] == "rate_limited"
    assert third["detail"] == (
        "Too many payment attempts at this charger. Please wait a few minutes and try again."
    )
    german = start(client, "192.0.2.4", HTTP_ACCEPT_LANGUAGE="de")
    assert german["http"] == 429
    assert german["detail"].startswith("Zu viele Zahlungsversuche an diesem Ladepunkt.")
