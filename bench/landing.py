"""`python -m bench landing`: the driver's landing page `/charge/<evse_id>/`, what a QR code on a
charger opens, served by gunicorn on PostgreSQL.

The station (`python -m bench.landing setup`, inside the app's environment) is stored the way a
CPO's push stores it, through the version's serializers and `stations.services`: a registered
2.2.1 CPO (DE*BEN) with one site of four EVSEs (two AC with Type 2 and Schuko, two DC with CCS
and CHAdeMO), REGULAR and AD_HOC_PAYMENT tariffs with VAT, a blocking fee and a day/night energy
price, and, around it, 2,000 filler locations (4,000 EVSEs) of another CPO so that the lookups
run against tables of a realistic size. The load comes from a second process (`python -m
bench.landing load`: raw HTTP/1.1 over asyncio, keep-alive connections wherever gunicorn keeps
them, reopened where it closes them) asking for the four EVSEs' pages in turn, with English and
German browsers alternately, and no cookies (a driver's first visit).

Each of our figures comes with the yardstick's, measured in the same run on the same gunicorn
configuration: `bench.bare.charge_page`, the same template from the same data with no middleware
and one query a page.

Figures: requests/s at saturation (a closed loop, 8 requests in flight) for sync 2 workers and
gthread 2×4; on the better one, median and p95 at a fixed 100 requests/s (an open loop whose
latencies count from each request's scheduled start, so a stalled server cannot hide its
queue), with persistent database connections and with one connection per request; and the
page weight. Whether connections persist is read from the settings as the app sees them
(`config/settings.py` may default CONN_MAX_AGE for PostgreSQL); the other case is forced with
`conn_max_age` on DATABASE_URL, which django-environ reads and the settings keep.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.support import (
    PYTHON,
    BenchError,
    Budget,
    Figure,
    app_env,
    gunicorn,
    latency_percentiles,
    run_json,
    say,
    scratch_database,
    server_cpu_seconds,
    with_query,
)

BUDGET_SECONDS = 600
# The yardstick, measured in the same run (`bench.bare.charge_page`): the same template from
# the same data, with no middleware and one query a page.
BARE_SETTINGS, BARE = "bench.settings_bare", "/bench/bare/charge"
CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("sync ×2", {"workers": 2, "worker_class": "sync"}),
    ("gthread 2×4", {"workers": 2, "worker_class": "gthread", "threads": 4}),
]
CONCURRENCY = 8
WARMUP, DURATION = 2.0, 8.0
RATE, RATE_DURATION = 100, 10.0
TARGET_MEDIAN_MS, TARGET_RPS, TARGET_BYTES = 30.0, 200.0, 60 * 1024
FILLER_LOCATIONS = 2_000
LANGUAGES = ("en-GB,en;q=0.9", "de-DE,de;q=0.9,en;q=0.5")
PAGE_MARK = b'id="pay"'  # only a payable EVSE's page has the form: the whole page was built


# --- the benchmark -----------------------------------------------------------------------------


def run(budget_seconds: float = BUDGET_SECONDS) -> list[Figure]:
    budget = Budget(budget_seconds, "landing")
    with scratch_database(require_postgres=True) as db:
        say(f"landing: database {db.description}")
        env = app_env(db.url)
        say(f"landing: storing the station and {FILLER_LOCATIONS:,} filler locations")
        station = run_json(
            [PYTHON, "-m", "bench.landing", "setup", "--filler", str(FILLER_LOCATIONS)],
            env,
            timeout=budget.remaining(180),
            what="landing setup",
        )
        variants = _variants(env, budget)
        first_label, first_env, first_age = variants[0]
        say(f"landing: DATABASE_URL as given gives CONN_MAX_AGE={first_age}")
        closed: dict[tuple[str, str], dict[str, Any]] = {}
        bare: dict[tuple[str, str], dict[str, Any]] = {}
        weights: dict[str, int] = {}
        evse_ids = station["evse_ids"]
        for label, config in CONFIGS:
            with gunicorn(first_env, **config) as base:
                if not weights:
                    weights = _weights(base, evse_ids)
                closed[(first_label, label)] = _load(
                    budget, base, evse_ids, "closed", concurrency=CONCURRENCY
                )
            _say_result(
                f"{first_label}, {label}, {CONCURRENCY} in flight", closed[(first_label, label)]
            )
            with gunicorn(first_env, settings=BARE_SETTINGS, **config) as base:
                bare[(first_label, label)] = _load(
                    budget, base, evse_ids, "closed", concurrency=CONCURRENCY, prefix=BARE
                )
            _say_result(
                f"bare, {first_label}, {label}, {CONCURRENCY} in flight",
                bare[(first_label, label)],
            )
        best, best_config = max(CONFIGS, key=lambda c: closed[(first_label, c[0])]["rps"])
        at_rate: dict[str, dict[str, Any]] = {}
        bare_at_rate: dict[str, dict[str, Any]] = {}
        for label, variant_env, _age in variants:
            with gunicorn(variant_env, **best_config) as base:
                if (label, best) not in closed:
                    closed[(label, best)] = _load(
                        budget, base, evse_ids, "closed", concurrency=CONCURRENCY
                    )
                    _say_result(f"{label}, {best}, {CONCURRENCY} in flight", closed[(label, best)])
                at_rate[label] = _load(
                    budget, base, evse_ids, "open", rate=RATE, duration=RATE_DURATION
                )
                _say_result(f"{label}, {best}, {RATE}/s", at_rate[label])
            with gunicorn(variant_env, settings=BARE_SETTINGS, **best_config) as base:
                if (label, best) not in bare:
                    bare[(label, best)] = _load(
                        budget, base, evse_ids, "closed", concurrency=CONCURRENCY, prefix=BARE
                    )
                bare_at_rate[label] = _load(
                    budget,
                    base,
                    evse_ids,
                    "open",
                    rate=RATE,
                    duration=RATE_DURATION,
                    prefix=BARE,
                )
                _say_result(f"bare, {label}, {best}, {RATE}/s", bare_at_rate[label])
    return _figures(db.description, variants, closed, best, at_rate, weights, bare, bare_at_rate)


def _variants(env: dict[str, str], budget: Budget) -> list[tuple[str, dict[str, str], int]]:
    """(label, env, CONN_MAX_AGE): DATABASE_URL as given first, then the other case forced."""
    given = _conn_settings(env, budget)
    base_url = env["DATABASE_URL"].split("?", 1)[0]
    options = [
        part
        for part in env["DATABASE_URL"].partition("?")[2].split("&")
        if part and not part.startswith("conn_max_age=")
    ]
    kept = f"{base_url}?{'&'.join(options)}" if options else base_url
    other_age = "60" if given["conn_max_age"] == 0 else "0"
    other_env = {**env, "DATABASE_URL": with_query(kept, conn_max_age=other_age)}
    other = _conn_settings(other_env, budget)
    other_label = (
        f"{'a connection per request' if other['conn_max_age'] == 0 else 'persistent'} "
        f"(conn_max_age={other_age} on DATABASE_URL: CONN_MAX_AGE={other['conn_max_age']})"
    )
    first_label = (
        f"as configured (CONN_MAX_AGE={given['conn_max_age']}"
        f"{', health checks' if given['health_checks'] else ''})"
    )
    return [
        (first_label, env, given["conn_max_age"]),
        (other_label, other_env, other["conn_max_age"]),
    ]


def _conn_settings(env: dict[str, str], budget: Budget) -> dict[str, Any]:
    result: dict[str, Any] = run_json(
        [PYTHON, "-m", "bench.landing", "settings"],
        env,
        timeout=budget.remaining(60),
        what="landing settings",
    )
    return result


def _weights(base: str, evse_ids: list[str]) -> dict[str, int]:
    """Body bytes of each EVSE's page in each language (no compression: none is configured)."""
    weights = {}
    with httpx.Client(timeout=10) as client:
        for evse_id in evse_ids:
            for language in LANGUAGES:
                page = client.get(
                    f"{base}/charge/{evse_id}/", headers={"Accept-Language": language}
                )
                if page.status_code != 200 or PAGE_MARK not in page.content:
                    raise BenchError(f"/charge/{evse_id}/ answered {page.status_code}")
                weights[f"{evse_id} {language[:2]}"] = len(page.content)
    return weights


def _load(budget: Budget, base: str, evse_ids: list[str], mode: str, **options: Any) -> Any:
    args = [PYTHON, "-m", "bench.landing", "load", mode, "--base", base]
    args += ["--evse-ids", json.dumps(evse_ids), "--warmup", str(WARMUP)]
    options.setdefault("duration", DURATION)
    for name, value in options.items():
        args += [f"--{name}", str(value)]
    cpu = server_cpu_seconds(base)
    result = run_json(args, dict(os.environ), timeout=budget.remaining(90), what=f"load {mode}")
    cpu = server_cpu_seconds(base) - cpu
    result["server_cpu_ms"] = cpu * 1000 / result["sent"] if result["sent"] else 0.0
    return result


def _say_result(what: str, result: dict[str, Any]) -> None:
    say(
        f"landing: {what}: {result['rps']:.0f}/s, p50 {result['p50_ms']:.1f} ms, "
        f"p95 {result['p95_ms']:.1f} ms, {_failed(result)} failed"
    )


def _failed(result: dict[str, Any]) -> int:
    return int(result["not_ok"] + result["errors"])


def _connections(result: dict[str, Any]) -> str:
    text = f"{result['connections']} connections opened (warm-up included)"
    if result["stale"]:
        text += f", {result['stale']} found closed while idle and the request sent again"
    return text


def _figures(
    database: str,
    variants: list[tuple[str, dict[str, str], int]],
    closed: dict[tuple[str, str], dict[str, Any]],
    best: str,
    at_rate: dict[str, dict[str, Any]],
    weights: dict[str, int],
    bare: dict[tuple[str, str], dict[str, Any]],
    bare_at_rate: dict[str, dict[str, Any]],
) -> list[Figure]:
    figures = [Figure("landing", "database", None, "", note=database)]
    for (variant, label), result in closed.items():
        rps = result["rps"]
        figures.append(
            Figure(
                "landing",
                f"pages/s at saturation, {label}{' (best)' if label == best else ''}, {variant}",
                rps,
                "req/s",
                f"≥ {TARGET_RPS:.0f}/s",
                rps >= TARGET_RPS,
                f"p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms at "
                f"{CONCURRENCY} in flight; {result['requests']} pages in {DURATION:g} s, "
                f"{_failed(result)} failed, {_connections(result)}; "
                f"load generator {result['cpu_seconds']:.1f} CPU s; "
                f"{result['server_cpu_ms']:.2f} ms of gunicorn's CPU a page",
            )
        )
        yardstick = bare.get((variant, label))
        if yardstick is not None:
            ratio = rps / yardstick["rps"] if yardstick["rps"] else 0.0
            figures += [
                Figure(
                    "landing",
                    f"  bare Django view, {label}, {variant}",
                    yardstick["rps"],
                    "req/s",
                    note=f"p50 {yardstick['p50_ms']:.1f} ms, p95 {yardstick['p95_ms']:.1f} ms;"
                    f" {_failed(yardstick)} failed; {yardstick['server_cpu_ms']:.2f} ms of"
                    " gunicorn's CPU a page",
                ),
                Figure(
                    "landing",
                    "  ours / bare",
                    ratio,
                    "",
                    "≥ 0.6",
                    ratio >= 0.6 and not _failed(yardstick),
                    "no ratio: the yardstick's answers failed" if _failed(yardstick) else "",
                ),
                Figure(
                    "landing",
                    "  bare's CPU / ours (a page)",
                    yardstick["server_cpu_ms"] / result["server_cpu_ms"]
                    if result["server_cpu_ms"]
                    else 0,
                    "",
                    note="what the ratio of pages/s tends to where our CPU is the bottleneck",
                ),
            ]
    for variant, result in at_rate.items():
        p50, p95 = result["p50_ms"], result["p95_ms"]
        yardstick = bare_at_rate.get(variant)
        figures += [
            Figure(
                "landing",
                f"median at {RATE}/s, {best}, {variant}",
                p50,
                "ms",
                f"< {TARGET_MEDIAN_MS:.0f} ms",
                p50 is not None and p50 < TARGET_MEDIAN_MS,
                f"{result['requests']} pages over {result['seconds']:.0f} s "
                f"({result['rps']:.0f}/s answered), {_failed(result)} failed, "
                f"{_connections(result)}",
            ),
            Figure(
                "landing",
                f"  bare Django view's median at {RATE}/s, {best}, {variant}",
                yardstick["p50_ms"] if yardstick else None,
                "ms",
                note=f"p95 {yardstick['p95_ms']:.1f} ms, {_failed(yardstick)} failed"
                if yardstick and yardstick["p95_ms"] is not None
                else "",
            ),
            Figure(
                "landing",
                f"  p95 at {RATE}/s, {best}, {variant}",
                p95,
                "ms",
                note=f"p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.1f} ms",
            ),
        ]
    if weights:
        heaviest = max(weights, key=lambda key: weights[key])
        figures.append(
            Figure(
                "landing",
                "page weight (HTML, before Stripe.js)",
                weights[heaviest],
                "bytes",
                "< 60 KB",
                weights[heaviest] < TARGET_BYTES,
                f"heaviest of {len(weights)} (4 EVSEs × en/de): {heaviest}; lightest "
                f"{min(weights.values()):,} bytes; uncompressed, inline CSS and script included",
            )
        )
    return figures


# --- setup: the station, stored as a CPO's push stores it ----------------------------------------

STAMP = "2026-01-01T00:00:00Z"
PARTY = ("DE", "BEN")
SITE = "ALEX01"
VAT = "19"


def _component(kind: str, price: str, step_size: int = 1) -> dict[str, Any]:
    return {"type": kind, "price": price, "vat": VAT, "step_size": step_size}


def _tariffs() -> list[dict[str, Any]]:
    """Prices as German CPOs write them: excl. VAT to 4 decimals, 19 % VAT stated. The card
    payer's AC price is 0.69 €/kWh incl. VAT, DC 0.79 by day and 0.69 at night; a blocking fee
    of 0.10 €/min after 4 h (AC) or 45 min (DC)."""
    blocking_ac = {
        "price_components": [_component("TIME", "5.0420", 60)],
        "restrictions": {"min_duration": 4 * 3600},
    }
    blocking_dc = {
        "price_components": [_component("TIME", "5.0420", 60)],
        "restrictions": {"min_duration": 45 * 60},
    }
    alt_text = [
        {"language": "en", "text": "Prices include 19 % VAT. Blocking fee after a while."},
        {"language": "de", "text": "Preise inkl. 19 % MwSt. Blockiergebühr nach einer Weile."},
    ]
    common = {"currency": "EUR", "tariff_alt_text": alt_text, "last_updated": STAMP}
    return [
        {
            "id": "AC-REG",
            "type": "REGULAR",
            "elements": [
                {"price_components": [_component("FLAT", "0.4202")]},
                {"price_components": [_component("ENERGY", "0.4958")]},
                blocking_ac,
            ],
            **common,
        },
        {
            "id": "AC-ADHOC",
            "type": "AD_HOC_PAYMENT",
            "elements": [{"price_components": [_component("ENERGY", "0.5798")]}, blocking_ac],
            **common,
        },
        {
            "id": "DC-REG",
            "type": "REGULAR",
            "elements": [
                {"price_components": [_component("FLAT", "0.4202")]},
                {"price_components": [_component("ENERGY", "0.5798")]},
                blocking_dc,
            ],
            **common,
        },
        {
            "id": "DC-ADHOC",
            "type": "AD_HOC_PAYMENT",
            "elements": [
                {
                    "price_components": [_component("ENERGY", "0.6639")],
                    "restrictions": {"start_time": "06:00", "end_time": "22:00"},
                },
                {
                    "price_components": [_component("ENERGY", "0.5798")],
                    "restrictions": {"start_time": "22:00", "end_time": "06:00"},
                },
                blocking_dc,
            ],
            "max_price": {"excl_vat": "84.03", "incl_vat": "100.00"},
            **common,
        },
    ]


def _connector(
    number: int, standard: str, fmt: str, power: str, volts: int, amps: int, watts: int
) -> dict[str, Any]:
    dc = power == "DC"
    return {
        "id": str(number),
        "standard": standard,
        "format": fmt,
        "power_type": power,
        "max_voltage": volts,
        "max_amperage": amps,
        "max_electric_power": watts,
        "tariff_ids": ["DC-REG", "DC-ADHOC"] if dc else ["AC-REG", "AC-ADHOC"],
        "last_updated": STAMP,
    }


def _site() -> dict[str, Any]:
    ac = [
        _connector(1, "IEC_62196_T2", "SOCKET", "AC_3_PHASE", 230, 32, 22_080),
        _connector(2, "DOMESTIC_F", "SOCKET", "AC_1_PHASE", 230, 16, 3_680),
    ]
    dc = [
        _connector(1, "IEC_62196_T2_COMBO", "CABLE", "DC", 920, 250, 150_000),
        _connector(2, "CHADEMO", "CABLE", "DC", 500, 125, 50_000),
    ]
    evses = [
        {
            "uid": f"{SITE}-{n}",
            "evse_id": f"{PARTY[0]}*{PARTY[1]}*E{SITE}*{n}",
            "status": "AVAILABLE",
            "capabilities": ["REMOTE_START_STOP_CAPABLE", "RFID_READER", "CREDIT_CARD_PAYABLE"],
            "connectors": connectors,
            "physical_reference": f"Ladepunkt {n}",
            "floor_level": "0",
            "parking_restrictions": ["EV_ONLY"],
            "last_updated": STAMP,
        }
        for n, connectors in ((1, ac), (2, ac), (3, dc), (4, dc))
    ]
    return {
        "country_code": PARTY[0],
        "party_id": PARTY[1],
        "id": SITE,
        "publish": True,
        "name": "Ladepark Alexanderplatz",
        "address": "Alexanderstraße 7",
        "city": "Berlin",
        "postal_code": "10178",
        "country": "DEU",
        "coordinates": {"latitude": "52.521918", "longitude": "13.413215"},
        "parking_type": "PARKING_LOT",
        "evses": evses,
        "directions": [{"language": "de", "text": "Einfahrt über die Dircksenstraße"}],
        "operator": {"name": "Berliner Ladenetz GmbH", "website": "https://example.org"},
        "facilities": ["TRAIN_STATION", "CAFE", "SUPERMARKET"],
        "time_zone": "Europe/Berlin",
        "opening_times": {"twentyfourseven": True},
        "last_updated": STAMP,
    }


def setup(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.landing setup")
    parser.add_argument("--filler", type=int, default=FILLER_LOCATIONS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from cpo_simulator.fleet import Fleet
    from cpo_simulator.locations import location_object
    from ocpi_peer import versions
    from ocpi_peer.models import Partner, PartnerEndpoint, PartnerParty
    from stations import services

    spec = versions.get("2.2.1")

    def partner(name: str, country: str, party: str) -> Partner:
        stored = Partner(name=name, status=Partner.Status.REGISTERED, version="2.2.1")
        stored.token = "bench-" + party  # never called: the pages make no OCPI call
        stored.save()
        PartnerParty.objects.create(
            partner=stored, role="CPO", country_code=country, party_id=party
        )
        for module in ("commands", "tokens"):
            PartnerEndpoint.objects.create(
                partner=stored,
                module=module,
                role="RECEIVER",
                url=f"http://127.0.0.1:9/ocpi/2.2.1/{module}",
            )
        return stored

    def store(owner: Partner, locations: list[dict[str, Any]]) -> None:
        parsed = [spec.read(spec.location, location) for location in locations]
        services.store_owned_locations(partner=owner, locations=parsed)

    ours = partner("Berliner Ladenetz", *PARTY)
    store(ours, [_site()])
    items = []
    for tariff in _tariffs():
        data = spec.read(spec.tariff, {**tariff, "country_code": PARTY[0], "party_id": PARTY[1]})
        items.append((data.pop("country_code"), data.pop("party_id"), data))
    services.store_tariffs(partner=ours, items=items)
    filler = partner("Filler CPO", "NL", "FIL")
    fleet = Fleet(country_code="NL", party_id="FIL", operator_name="Filler CPO")
    for start in range(0, args.filler, 500):
        store(
            filler,
            [
                location_object("2.2.1", i, fleet)
                for i in range(start, min(args.filler, start + 500))
            ],
        )
    from stations.models import Evse

    evse_ids = [evse["evse_id"] for evse in _site()["evses"]]
    print(json.dumps({"evse_ids": evse_ids, "evses_stored": Evse.objects.count()}))


def conn_settings() -> None:
    """How the app, given this environment, holds its database connections."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    settings_dict = connection.settings_dict
    print(
        json.dumps(
            {
                "conn_max_age": settings_dict.get("CONN_MAX_AGE"),
                "health_checks": bool(settings_dict.get("CONN_HEALTH_CHECKS")),
            }
        )
    )


# --- the load generator --------------------------------------------------------------------------


class Pages:
    """GET requests for the EVSEs' pages in turn, English and German browsers alternately."""

    def __init__(self, base: str, evse_ids: list[str], prefix: str = "/charge") -> None:
        url = urlsplit(base)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.requests = [
            (
                f"GET {prefix}/{evse_id}/ HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"User-Agent: bench-landing\r\nAccept: text/html\r\n"
                f"Accept-Language: {language}\r\nAccept-Encoding: identity\r\n\r\n"
            ).encode()
            for language in LANGUAGES
            for evse_id in evse_ids
        ]
        self.sent = 0
        self.opened = 0
        self.stale = 0  # kept connections found closed by the server, request sent again

    def next_request(self) -> bytes:
        request = self.requests[self.sent % len(self.requests)]
        self.sent += 1
        return request


class Connection:
    """One keep-alive connection, reopened when the server closes it (sync workers close after
    every answer; gthread workers keep it)."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, request: bytes) -> bool:
        """One request and its whole answer; True for HTTP 200 with the payment form. A kept
        connection the server closed while it was idle (gunicorn's keep-alive timeout) is
        noticed when the answer does not start; the request is then sent once more on a new
        connection, as browsers do."""
        reused = self.writer is not None
        try:
            return await self._exchange(request)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            self.close()
            self.pages.stale += 1
            return await self._exchange(request)

    async def _exchange(self, request: bytes) -> bool:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.pages.host, self.pages.port
            )
            self.pages.opened += 1
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, _, rest = head.partition(b"\r\n")
        length, close, chunked = None, False, False
        for line in rest.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value == b"close":
                close = True
            elif name == b"transfer-encoding" and b"chunked" in value:
                chunked = True
        if chunked:
            body = await self._chunks()
        elif length is None:
            body, close = await self.reader.read(), True
        else:
            body = await self.reader.readexactly(length) if length else b""
        if close or status_line.startswith(b"HTTP/1.0"):
            self.close()
        return status_line.split(b" ", 2)[1:2] == [b"200"] and PAGE_MARK in body

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        body = b""
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return body
            body += chunk[:-2]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


NETWORK_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


async def closed_loop(
    pages: Pages, *, concurrency: int, warmup: float, duration: float
) -> dict[str, Any]:
    """`concurrency` connections, each asking again as soon as it has its answer."""
    start = time.perf_counter()
    measure_from, measure_to = start + warmup, start + warmup + duration
    latencies: list[float] = []
    failures = errors = 0

    async def loop() -> None:
        nonlocal failures, errors
        connection = Connection(pages)
        while (now := time.perf_counter()) < measure_to:
            try:
                ok = await asyncio.wait_for(connection.get(pages.next_request()), 30)
            except (*NETWORK_ERRORS, TimeoutError):
                connection.close()
                errors += measure_from <= now
                continue
            done = time.perf_counter()
            if measure_from <= now and done <= measure_to:
                latencies.append(done - now)
                failures += not ok
        connection.close()

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return {
        "requests": len(latencies),
        "seconds": duration,
        "rps": len(latencies) / duration,
        "not_ok": failures,
        "errors": errors,
        **latency_percentiles(latencies),
    }


async def open_loop(
    pages: Pages, *, rate: float, warmup: float, duration: float, stop: asyncio.Event
) -> dict[str, Any]:
    """`rate` requests a second on schedule whatever the answers do, each on an idle kept-alive
    connection or a new one; latency counts from the scheduled start. Requests scheduled in the
    first `warmup` seconds are not counted."""
    start = time.perf_counter()
    measure_from = start + warmup
    latencies: list[float] = []
    failures = errors = 0
    idle: list[Connection] = []
    tasks: set[asyncio.Task[None]] = set()

    async def one(scheduled: float) -> None:
        nonlocal failures, errors
        connection = idle.pop() if idle else Connection(pages)
        counted = scheduled >= measure_from
        try:
            ok = await asyncio.wait_for(connection.get(pages.next_request()), 30)
        except (*NETWORK_ERRORS, TimeoutError):
            connection.close()
            errors += counted
            return
        idle.append(connection)
        if counted:
            latencies.append(time.perf_counter() - scheduled)
            failures += not ok

    number = 0
    while not stop.is_set():
        scheduled = start + number / rate
        if scheduled >= measure_from + duration:
            break
        delay = scheduled - time.perf_counter()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
                break
            except TimeoutError:
                pass
        task = asyncio.create_task(one(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        number += 1
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    for connection in idle:
        connection.close()
    return {
        "requests": len(latencies),
        "scheduled": number,
        "seconds": duration,
        "rps": len(latencies) / duration,
        "not_ok": failures,
        "errors": errors,
        **latency_percentiles(latencies),
    }


def load(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.landing load")
    parser.add_argument("mode", choices=["closed", "open"])
    parser.add_argument("--base", required=True)
    parser.add_argument("--evse-ids", required=True, help="JSON list")
    parser.add_argument("--warmup", type=float, default=WARMUP)
    parser.add_argument("--duration", type=float, default=DURATION)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--rate", type=float, default=RATE)
    parser.add_argument("--prefix", default="/charge", help="/bench/bare/charge: the yardstick")
    args = parser.parse_args(argv)
    if args.duration > 120 or args.concurrency > 64 or args.rate > 2000:
        raise SystemExit("refusing: at most 120 s, 64 in flight, 2,000/s")
    pages = Pages(args.base, json.loads(args.evse_ids), args.prefix)

    async def main() -> dict[str, Any]:
        if args.mode == "closed":
            return await closed_loop(
                pages, concurrency=args.concurrency, warmup=args.warmup, duration=args.duration
            )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        return await open_loop(
            pages, rate=args.rate, warmup=args.warmup, duration=args.duration, stop=stop
        )

    result = asyncio.run(main())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result |= {
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "connections": pages.opened,
        "stale": pages.stale,
        "sent": pages.sent,  # warm-up included: what the server's CPU was spent on
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command == "setup":
        setup(rest)
    elif command == "settings":
        conn_settings()
    elif command == "load":
        load(rest)
    else:
        raise SystemExit(
            "usage: python -m bench.landing setup|settings|load ... (or python -m bench landing)"
        )
