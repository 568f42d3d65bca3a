"""A CPO asks in real time whether our driver's token may charge at an EVSE (TK-03): only the
EVSE paid for, only while the checkout is authorized or starting; a refusal is still HTTP 200."""

import httpx
import pytest

from payments import services
from payments.models import Checkout
from tests.support.localstripe import confirm_card_setup

pytestmark = pytest.mark.django_db(transaction=True)


def paid_checkout(cpo, live_server, fake) -> Checkout:
    """A driver pays at the simulator's first EVSE, through our API over HTTP."""
    cpo.push_location(0)
    for tariff_id in ("TARIFF-AC", "TARIFF-DC"):
        cpo.push_tariff(tariff_id)
    evse_id = cpo.location(0)["evses"][0]["evse_id"]
    created = httpx.post(
        f"{live_server.url}/api/v1/checkouts", json={"evse_id": evse_id, "connector_id": "1"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    method = confirm_card_setup(fake.base_url, body["setup_client_secret"], "4242424242424242")[
        "payment_method"
    ]
    paid = httpx.post(
        f"{live_server.url}/api/v1/checkouts/{body['id']}/pay", json={"payment_method": method}
    )
    assert paid.json()["status"] == "authorized", paid.text
    return Checkout.objects.get(public_id=body["id"])


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_the_paid_evse_is_allowed_with_the_authorization_reference(
    connected_cpo, live_server, stripe_settings, version: str
) -> None:
    cpo = connected_cpo(version=version, location_count=1)
    checkout = paid_checkout(cpo, live_server, stripe_settings)
    token = services.issue_token(checkout_id=checkout.pk)
    where = {"location_id": checkout.evse.location.ocpi_id, "evse_uids": [checkout.evse.uid]}
    answer = cpo.call_us("POST", f"tokens/{token.uid}/authorize", json=where)
    assert answer.status_code == 200
    info = answer.json()["data"]
    assert info["allowed"] == "ALLOWED"
    assert info["location"] == where
    if version == "2.2.1":
        checkout.refresh_from_db()
        assert info["authorization_reference"] == checkout.authorization_reference
        assert info["token"]["type"] == "AD_HOC_USER" and info["token"]["uid"] == token.uid
    else:
        assert "token" not in info and "authorization_reference" not in info


def test_another_evse_or_an_ended_checkout_is_refused_with_200(
    connected_cpo, live_server, stripe_settings
) -> None:
    cpo = connected_cpo(location_count=1)
    checkout = paid_checkout(cpo, live_server, stripe_settings)
    token = services.issue_token(checkout_id=checkout.pk)
    other_evse = cpo.location(0)["evses"][1]["uid"]
    where = {"location_id": checkout.evse.location.ocpi_id, "evse_uids": [other_evse]}
    answer = cpo.call_us("POST", f"tokens/{token.uid}/authorize", json=where)
    assert answer.status_code == 200 and answer.json()["data"]["allowed"] == "NOT_ALLOWED"
    Checkout.objects.filter(pk=checkout.pk).update(status="finished")
    answer = cpo.call_us("POST", f"tokens/{token.uid}/authorize", json=where)
    assert answer.json()["data"]["allowed"] == "EXPIRED"


def test_no_location_is_2002_and_an_unknown_token_is_404(
    connected_cpo, live_server, stripe_settings
) -> None:
    cpo = connected_cpo(location_count=1)
    checkout = paid_checkout(cpo, live_server, stripe_settings)
    token = services.issue_token(checkout_id=checkout.pk)
    assert cpo.call_us("POST", f"tokens/{token.uid}/authorize").json()["status_code"] == 2002
    unknown = cpo.call_us("POST", "tokens/NOT-OURS/authorize", json={"location_id": "X"})
    assert unknown.status_code == 404 and unknown.json()["status_code"] == 2004


def test_a_cpo_pulls_its_tokens(connected_cpo, live_server, stripe_settings) -> None:
    cpo = connected_cpo(location_count=1)
    checkout = paid_checkout(cpo, live_server, stripe_settings)
    token = services.issue_token(checkout_id=checkout.pk)
    assert services.issue_token(checkout_id=checkout.pk) == token  # issued once
    listing = cpo.call_us("GET", "tokens")
    assert listing.headers["X-Total-Count"] == "1"
    assert [t["uid"] for t in listing.json()["data"]] == [token.uid]
    assert cpo.call_us("GET", f"tokens/{token.uid}").json()["data"]["whitelist"] == "NEVER"
