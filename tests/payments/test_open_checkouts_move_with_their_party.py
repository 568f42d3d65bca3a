"""An operator moves a CPO party to another connection (a CPO going from a direct link to a hub)
while a driver is charging at one of its chargers: the checkout, its session and its token go
along, so the CPO's next Session update and its CDR, now sent over the new connection, reach the
driver's checkout, which is captured and receipted; the old connection may no longer update the
session. A START_SESSION still waiting for its result gets it over the new connection. A
checkout that was over before the move stays with the connection that carried it; a credit CDR
for it, sent over the new connection, is linked to it by an operator."""

import httpx
import pytest
import simplejson
from django.contrib.auth.models import User
from django.utils import timezone

from ocpi_peer.commands import response_url
from ocpi_peer.models import CommandRequest, Partner
from ocpi_peer.parties import move_party
from payments.exports import settlement_rows
from payments.models import Case, Cdr, ChargingSession, Checkout, Deadline
from tests.payments.charging import pay, push_stations, reaches, status_of
from tests.payments.settling import cdr_for, settled
from tests.payments.stickers import connected

pytestmark = pytest.mark.django_db(transaction=True)


def _direct_and_hub(cpo_simulator, ocpi_base: str):
    direct = connected(
        cpo_simulator,
        ocpi_base,
        partner_name="Direct",
        location_count=1,
        update_interval=0.2,
        time_scale=600,
    )
    hub = connected(cpo_simulator, ocpi_base, partner_name="Hub", party_id="HUB")
    return direct, hub


def test_it_settles_a_checkout_charging_when_its_party_moved_over_the_new_connection(
    cpo_simulator, ocpi_base, live_server, stripe_settings, eager_tasks
) -> None:
    direct, hub = _direct_and_hub(cpo_simulator, ocpi_base)
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(direct)), "charging")
    running = direct.wait_for_session("ACTIVE")
    new = Partner.objects.get(name="Hub")

    move_party(country_code="NL", party_id="SIM", to=new, by="operator", note="now via the hub")

    checkout = Checkout.objects.get(pk=checkout.pk)
    session = ChargingSession.objects.get(checkout=checkout)
    assert (checkout.partner, session.partner) == (new, new)
    assert CommandRequest.objects.get().partner.name == "Direct"  # answered: it stays
    token = checkout.token
    assert token.uid.upper() in {key[2].upper() for key in hub.tokens}  # the new route knows it
    assert token.pushed_at is not None

    # The CPO ends the session; its final update over the old connection is refused.
    final = direct.end_session(running["id"])
    url = f"sessions/NL/SIM/{running['id']}"
    stale = direct.call_us("PATCH", url, json={"status": "COMPLETED", "kwh": final["kwh"]})
    assert stale.status_code == 404 and stale.json()["status_code"] in (2001, 2003)
    assert status_of(checkout) == "charging"

    # It sends the same over the hub, the periods we have not seen yet with it.
    held = len(ChargingSession.objects.get(pk=session.pk).charging_periods)
    update = {
        "status": "COMPLETED",
        "end_date_time": final["end_date_time"],
        "kwh": final["kwh"],
        "charging_periods": final["charging_periods"][held:],
        "total_cost": final["total_cost"],
        "last_updated": final["last_updated"],
    }
    assert hub.call_us("PATCH", url, json=update).json()["status_code"] == 1000
    checkout = reaches(checkout, "finished")
    session = ChargingSession.objects.get(pk=session.pk)
    assert session.status == "COMPLETED"
    assert len(session.charging_periods) == len(final["charging_periods"])

    cdr = cdr_for(direct, checkout, session, total_incl=session.total_cost_incl_vat)
    assert hub.call_us("POST", "cdrs", json=cdr).status_code == 201
    checkout = reaches(checkout, "settled")
    assert checkout.payment_status == "captured"
    assert Cdr.objects.get().partner == new
    captured = checkout.ledger.get(kind="capture").amount_minor
    assert captured > 0
    receipt = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/")
    assert receipt.status_code == 200 and "CDR-1" in receipt.text
    assert f"€{captured / 100:.2f}" in receipt.text


def _session(checkout: Checkout, session_id: str) -> dict:
    """The CPO's first push of the session it started for `checkout` (2.2.1)."""
    token, evse = checkout.token, checkout.evse
    now = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "country_code": "NL",
        "party_id": "SIM",
        "id": session_id,
        "start_date_time": now,
        "kwh": 0,
        "cdr_token": {
            "country_code": "DE",
            "party_id": "CPY",
            "uid": token.uid,
            "type": "AD_HOC_USER",
            "contract_id": token.contract_id,
        },
        "auth_method": "COMMAND",
        "authorization_reference": checkout.authorization_reference,
        "location_id": evse.location.ocpi_id,
        "evse_uid": evse.uid,
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": now,
    }


def test_it_records_the_start_result_and_the_session_sent_over_the_new_connection(
    cpo_simulator, ocpi_base, live_server, stripe_settings, eager_tasks
) -> None:
    direct = connected(
        cpo_simulator, ocpi_base, partner_name="Direct", location_count=1, command_fault="no_result"
    )
    hub = connected(cpo_simulator, ocpi_base, partner_name="Hub", party_id="HUB")
    checkout = pay(live_server.url, stripe_settings, push_stations(direct))
    assert status_of(checkout) == "starting"  # START_SESSION accepted, its result still to come
    new = Partner.objects.get(name="Hub")

    move_party(country_code="NL", party_id="SIM", to=new, by="operator")

    start = CommandRequest.objects.get(checkout=checkout)
    assert start.partner == new and Checkout.objects.get(pk=checkout.pk).partner == new
    url = response_url(start)
    late = direct.call_us("POST", url, json={"result": "ACCEPTED"})
    assert late.status_code == 404  # the old connection's word no longer counts
    assert CommandRequest.objects.get(pk=start.pk).result == ""
    assert hub.call_us("POST", url, json={"result": "ACCEPTED"}).json()["status_code"] == 1000
    assert CommandRequest.objects.get(pk=start.pk).result == "ACCEPTED"
    pushed = hub.call_us("PUT", "sessions/NL/SIM/S-1", json=_session(checkout, "S-1"))
    assert pushed.status_code == 201
    checkout = reaches(checkout, "charging")
    assert ChargingSession.objects.get(checkout=checkout).partner == new


def test_it_leaves_a_settled_checkout_with_the_connection_that_carried_it(
    cpo_simulator, ocpi_base, live_server, stripe_settings, eager_tasks
) -> None:
    direct, hub = _direct_and_hub(cpo_simulator, ocpi_base)
    checkout = settled(direct, live_server, stripe_settings)
    old, new = Partner.objects.get(name="Direct"), Partner.objects.get(name="Hub")

    move_party(country_code="NL", party_id="SIM", to=new, by="operator")

    assert Checkout.objects.get(pk=checkout.pk).partner == old
    assert {s.partner for s in ChargingSession.objects.all()} == {old}
    assert {c.partner for c in Cdr.objects.all()} == {old}
    assert {c.partner for c in CommandRequest.objects.all()} == {old}
    assert not hub.tokens  # a withdrawn token is not pushed anywhere
    rows = settlement_rows(timezone.localdate(), old.pk)
    assert [r.checkout_id for r in rows if not r.is_total] == [checkout.pk]
    assert settlement_rows(timezone.localdate(), new.pk) == []


def test_an_operator_links_a_credit_sent_over_the_new_connection_to_the_checkout_that_stayed(
    cpo_simulator, ocpi_base, live_server, stripe_settings, eager_tasks, client
) -> None:
    direct, hub = _direct_and_hub(cpo_simulator, ocpi_base)
    checkout = settled(direct, live_server, stripe_settings)
    move_party(country_code="NL", party_id="SIM", to=Partner.objects.get(name="Hub"), by="op")
    billed = simplejson.loads(Cdr.objects.get().body, use_decimal=True)
    total = billed["total_cost"]
    credit = billed | {
        "id": "CDR-1-C",
        "credit": True,
        "credit_reference_id": billed["id"],
        "total_cost": {"excl_vat": -total["excl_vat"], "incl_vat": -total["incl_vat"]},
    }

    assert hub.call_us("POST", "cdrs", json=credit).status_code == 201
    case = Case.objects.get(kind=Case.Kind.UNMATCHED_CDR)  # nothing of the hub's matches it

    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    linked = client.post(
        "/admin/payments/case/",
        {
            "action": "link_cdr",
            "_selected_action": [case.pk],
            "checkout": str(checkout.pk),
            "apply": "1",
        },
        follow=True,
    )
    assert "it is being settled" in linked.content.decode()
    owed = list(checkout.ledger.filter(kind="payable").values_list("amount_minor", flat=True))
    assert sorted(owed) == [-int(total["incl_vat"] * 100), int(total["incl_vat"] * 100)]
    assert checkout.deadlines.filter(kind=Deadline.Kind.CREDIT_WAIT, done_at=None).exists()
