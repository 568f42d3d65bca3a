"""A charging session at a simulated CPO, ended, and the CDR a test POSTs to settle it: the
CPO's own shape with the session's periods and tariff, and a total the test chooses; or the
spec's example CDR, sent as the simulated CPO's."""

import copy
from decimal import Decimal

from django.utils import timezone

from payments.models import ChargingSession, Checkout
from tests.ocpi.examples import example
from tests.payments.charging import pay, push_stations, reaches


def finished_session(cpo, live_server, fake) -> tuple[Checkout, ChargingSession]:
    checkout = reaches(pay(live_server.url, fake, push_stations(cpo)), "charging")
    session = cpo.wait_for_session("ACTIVE")
    cpo.end_session(session["id"])
    checkout = reaches(checkout, "finished")
    return checkout, ChargingSession.objects.get(checkout=checkout)


def cdr_for(
    cpo, checkout: Checkout, session: ChargingSession, *, total_incl: Decimal, cdr_id: str = "CDR-1"
) -> dict:
    """The CDR a CPO would send for this session: its periods, its tariff, and a total."""
    location = cpo.location(0)
    evse = location["evses"][0]
    token = checkout.token
    return {
        "country_code": "NL",
        "party_id": "SIM",
        "id": cdr_id,
        "start_date_time": session.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date_time": (session.end or timezone.now()).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "session_id": session.session_id,
        "cdr_token": {
            "country_code": "DE",
            "party_id": "CPY",
            "uid": token.uid,
            "type": "AD_HOC_USER",
            "contract_id": token.contract_id,
        },
        "auth_method": "COMMAND",
        "authorization_reference": checkout.authorization_reference,
        "cdr_location": {
            "id": location["id"],
            "address": location["address"],
            "city": location["city"],
            "country": location["country"],
            "coordinates": location["coordinates"],
            "evse_uid": evse["uid"],
            "evse_id": evse["evse_id"],
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "tariffs": [cpo.tariff("TARIFF-AC")],
        "charging_periods": session.charging_periods,
        "total_cost": {
            "excl_vat": (total_incl / Decimal("1.19")).quantize(Decimal("0.01")),
            "incl_vat": total_incl,
        },
        "total_energy": session.kwh,
        "total_time": Decimal("0.5"),
        "last_updated": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def minor(checkout: Checkout) -> dict[str, int]:
    return {e.kind: e.amount_minor for e in checkout.ledger.all()}


def settled(cpo, live_server, fake, *, total_incl: Decimal | None = None) -> Checkout:
    """A checkout settled by a CDR the test POSTs (the session's total unless `total_incl`)."""
    checkout, session = finished_session(cpo, live_server, fake)
    total = session.total_cost_incl_vat if total_incl is None else total_incl
    cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=total))
    return reaches(checkout, "settled")


def cdr(cdr_id: str = "CDR-1", **changes) -> dict:
    data = copy.deepcopy(example("cdr_example.json"))
    return {**data, "country_code": "NL", "party_id": "SIM", "id": cdr_id, **changes}
