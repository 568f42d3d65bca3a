"""`python -m bench session`: our CPU per Session update of a 100-period session, the running
cost included.

A CPO whose Sessions carry no `total_cost` (OCPI makes it optional): each update of a charging
checkout's Session makes us price its charging periods with the tariff the driver was shown
(`payments.costs`, as settlement does) to decide whether to stop before the hold. The stations
are the CPO simulator's (`cpo_simulator`: its first location and `TARIFF-AC`, start fee, kWh and
a blocking fee), stored as a push stores them; the checkout is claimed as a driver's is
(`services._claim`: the price shown, kept, and the hold) and set charging with its hold placed,
without Stripe. The Session is PUT with 99 one-minute periods at 11 kW; then each measured
update is the CPO's PATCH adding the 100th period (new `kwh`, `last_updated`, no cost) through
Django's WSGI handler exactly as gunicorn calls it: middleware, token authentication, the
Session serializer, `charging.record_session` with the cost stop, the traffic log, the answer.
Before each PATCH the stored session is put back to its 99 periods (not measured), so every
update prices 100.

Reported: this thread's CPU time per PATCH (`time.thread_time`, which other processes cannot
inflate; PostgreSQL's own work is not in it, the wall time is), median and p95, after a
warm-up; beside it the running-cost pricing alone (`costs.running_cost`) on the same session
(its checkout read with its partner and location, as the Session path reads it),
and as a yardstick the same PATCHes carrying the CPO's `total_cost`, which price nothing.
PostgreSQL only, as in production: a scratch database on DATABASE_URL's server, else
`chargepay_bench_session` on 127.0.0.1:5432."""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from bench.support import (
    PYTHON,
    BenchError,
    Budget,
    Figure,
    app_env,
    quantile,
    run_json,
    say,
    scratch_database,
)

BUDGET_SECONDS = 240
PERIODS = 100
UPDATES, WARMUP = 300, 20
CHARGE_KW = Decimal(11)
TARGET_MS = 5.0
COUNTRY, PARTY = "NL", "SIM"


def run(budget_seconds: float = BUDGET_SECONDS) -> list[Figure]:
    budget = Budget(budget_seconds, "session")
    with scratch_database(require_postgres=True, name="chargepay_bench_session") as db:
        say(f"session: database {db.description}; {UPDATES} PATCHes of a {PERIODS}-period session")
        result = run_json(
            [PYTHON, "-m", "bench.session_update", "measure"],
            app_env(db.url),
            timeout=budget.remaining(180),
            what="bench.session_update measure",
        )
    if "error" in result:
        raise BenchError(result["error"])
    patch, pricing = result["patch_cpu_ms"], result["pricing_cpu_ms"]
    median = statistics.median(patch)
    return [
        Figure("session", "database", None, "", note=db.description),
        Figure(
            "session",
            f"our CPU per Session update, {PERIODS} periods, running cost included, median",
            median,
            "ms",
            f"< {TARGET_MS:g} ms",
            median < TARGET_MS,
            f"p95 {quantile(patch, 0.95):.2f} ms over {len(patch)} PATCHes; wall median "
            f"{statistics.median(result['patch_wall_ms']):.2f} ms; {result['outcome']}",
        ),
        Figure(
            "session",
            f"  of which the running-cost pricing, {PERIODS} periods, median",
            statistics.median(pricing),
            "ms",
            note=f"p95 {quantile(pricing, 0.95):.2f} ms; cost {result['cost']}",
        ),
        Figure(
            "session",
            "  the same PATCH with the CPO's total_cost (nothing priced), median",
            statistics.median(result["yardstick_cpu_ms"]),
            "ms",
            note=f"p95 {quantile(result['yardstick_cpu_ms'], 0.95):.2f} ms: the Session path "
            "itself (middleware, authentication, serializer, the stored periods, traffic log)",
        ),
    ]


# --- in the measuring process ------------------------------------------------------------------


def measure() -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    import simplejson
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    from payments import costs
    from payments.models import ChargingSession, Checkout

    checkout, token = _prepare()
    headers = {
        "Authorization": "Token " + base64.b64encode(token.encode()).decode(),
        "OCPI-from-country-code": COUNTRY,
        "OCPI-from-party-id": PARTY,
        "OCPI-to-country-code": settings.OCPI_COUNTRY_CODE,
        "OCPI-to-party-id": settings.OCPI_PARTY_ID,
    }
    session_id = str(uuid4())
    path = f"/ocpi/2.2.1/sessions/{COUNTRY}/{PARTY}/{session_id}"
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    handler, factory = WSGIHandler(), RequestFactory()

    def call(method: str, body: dict[str, Any]) -> float:
        payload = simplejson.dumps(body, use_decimal=True)
        request = getattr(factory, method.lower())
        environ = request(
            path,
            data=payload,
            content_type="application/json",
            headers={**headers, "X-Request-ID": str(uuid4()), "X-Correlation-ID": str(uuid4())},
        ).environ
        answered: list[str] = []
        cpu = time.thread_time()
        response = handler(environ, lambda status, *_: answered.append(status))
        content = b"".join(response)
        response.close()
        spent = time.thread_time() - cpu
        if not answered or not answered[0].startswith(("200", "201")):
            raise BenchError(f"Session {method} answered {answered}: {content[:300]!r}")
        return spent

    first = _session(checkout, session_id, start, PERIODS - 1)
    call("PUT", first)
    session = ChargingSession.objects.get(session_id=session_id)
    kept = list(session.charging_periods)
    patch_cpu, patch_wall, pricing, yardstick = [], [], [], []
    for number in range(WARMUP + UPDATES):
        ChargingSession.objects.filter(pk=session.pk).update(charging_periods=kept)
        stamp = start + timedelta(minutes=PERIODS, seconds=number)
        body = {
            "kwh": _kwh(PERIODS),
            "charging_periods": [_period(start, PERIODS - 1)],
            "last_updated": _stamp(stamp),
        }
        wall = time.perf_counter()
        spent = call("PATCH", body)
        wall = time.perf_counter() - wall
        session.refresh_from_db()
        checkout = Checkout.objects.select_related("partner", "evse__location").get(pk=checkout.pk)
        cpu = time.thread_time()
        cost = costs.running_cost(checkout, session)
        priced = time.thread_time() - cpu
        if number >= WARMUP:
            patch_cpu.append(spent * 1000)
            patch_wall.append(wall * 1000)
            pricing.append(priced * 1000)
    # The yardstick: the same PATCHes from a CPO that sends its total (nothing to price); the
    # stored session goes back to having none before the next run.
    for number in range(WARMUP + UPDATES):
        ChargingSession.objects.filter(pk=session.pk).update(charging_periods=kept)
        stamp = start + timedelta(minutes=PERIODS, seconds=WARMUP + UPDATES + number)
        body = {
            "kwh": _kwh(PERIODS),
            "charging_periods": [_period(start, PERIODS - 1)],
            "total_cost": {"excl_vat": Decimal("9.51"), "incl_vat": Decimal("11.32")},
            "last_updated": _stamp(stamp),
        }
        spent = call("PATCH", body)
        if number >= WARMUP:
            yardstick.append(spent * 1000)
    checkout = Checkout.objects.get(pk=checkout.pk)
    if len(session.charging_periods) != PERIODS or cost.basis != "shown":
        raise BenchError(
            f"the session has {len(session.charging_periods)} periods, cost by {cost.basis}"
        )
    return {
        "patch_cpu_ms": patch_cpu,
        "patch_wall_ms": patch_wall,
        "pricing_cpu_ms": pricing,
        "yardstick_cpu_ms": yardstick,
        "cost": f"{cost.amount} {checkout.currency} by the price shown, hold "
        f"{checkout.hold_amount:.2f}",
        "outcome": f"the checkout is {checkout.status} after them (not stopped: below the hold)",
    }


def _prepare() -> tuple[Any, str]:
    """The CPO (registered, its access token), its stations and a checkout charging at them."""
    from cpo_simulator import CpoSimulator
    from ocpi_peer import crypto, parties, versions
    from ocpi_peer.models import Partner, PartnerParty, PartnerToken
    from payments import services
    from payments.models import Checkout
    from stations import services as stations
    from stations import tariffs
    from stations.models import Evse

    sim = CpoSimulator(country_code=COUNTRY, party_id=PARTY, location_count=1)
    partner = Partner.objects.create(
        name="Bench CPO", status=Partner.Status.REGISTERED, version="2.2.1"
    )
    PartnerParty.objects.create(partner=partner, role="CPO", country_code=COUNTRY, party_id=PARTY)
    partner.party_keys = parties.claim_parties(
        partner=partner, parties=[(COUNTRY, PARTY)], by="bench"
    )
    partner.save(update_fields=["party_keys"])
    token = crypto.new_token()
    PartnerToken.objects.create(
        partner=partner,
        kind=PartnerToken.Kind.ACCESS,
        token_hash=crypto.token_hash(token),
        token_encrypted=crypto.encrypt(token),
    )
    spec = versions.get("2.2.1")
    location = spec.read(spec.location, sim.location(0, "2.2.1"))
    for key in ("country_code", "party_id"):
        location.pop(key, None)
    stations.store_locations(
        partner=partner, country_code=COUNTRY, party_id=PARTY, locations=[location]
    )
    tariff = spec.read(spec.tariff, sim.tariff("TARIFF-AC"))
    stations.store_tariffs(
        partner=partner, items=[(tariff.pop("country_code"), tariff.pop("party_id"), tariff)]
    )
    evse = Evse.objects.get(evse_id=sim.location(0, "2.2.1")["evses"][0]["evse_id"])
    connector = evse.connectors.get(connector_id="1")
    shown = tariffs.shown_price(connector, at=datetime.now(UTC), locale="en")
    if shown is None or shown.unpriceable_reason:
        raise BenchError(f"no price to show at {evse.evse_id}")
    checkout = services._claim(
        evse, connector, shown, email="", locale="en", client_ip=None, client_net="", replaces=""
    )
    Checkout.objects.filter(pk=checkout.pk).update(
        status=Checkout.Status.CHARGING,
        payment_status=Checkout.PaymentStatus.HELD,
        authorization_reference=str(uuid4()),
    )
    checkout.refresh_from_db()
    return checkout, token


def _kwh(minutes: int) -> Decimal:
    return (CHARGE_KW * minutes / 60).quantize(Decimal("0.001"))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _period(start: datetime, minute: int) -> dict[str, Any]:
    """The period of minute `minute`, as the simulator writes one (energy and charging time)."""
    return {
        "start_date_time": _stamp(start + timedelta(minutes=minute)),
        "dimensions": [
            {"type": "ENERGY", "volume": _kwh(minute + 1) - _kwh(minute)},
            {"type": "TIME", "volume": Decimal("0.0167")},
        ],
        "tariff_id": "TARIFF-AC",
    }


def _session(checkout: Any, session_id: str, start: datetime, periods: int) -> dict[str, Any]:
    return {
        "country_code": COUNTRY,
        "party_id": PARTY,
        "id": session_id,
        "start_date_time": _stamp(start),
        "kwh": _kwh(periods),
        "cdr_token": {
            "country_code": "DE",
            "party_id": "CPY",
            "uid": "BENCH-TOKEN",
            "type": "AD_HOC_USER",
            "contract_id": "BENCH-TOKEN",
        },
        "auth_method": "COMMAND",
        "authorization_reference": checkout.authorization_reference,
        "location_id": checkout.evse.location.ocpi_id,
        "evse_uid": checkout.evse.uid,
        "connector_id": "1",
        "currency": "EUR",
        "charging_periods": [_period(start, minute) for minute in range(periods)],
        "status": "ACTIVE",
        "last_updated": _stamp(start + timedelta(minutes=periods)),
    }


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command != "measure":
        sys.exit("usage: python -m bench.session_update measure (run by `python -m bench`)")
    parser = argparse.ArgumentParser(prog="python -m bench.session_update measure")
    parser.parse_args(sys.argv[2:])
    try:
        print(json.dumps(measure()), flush=True)
    except BenchError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
