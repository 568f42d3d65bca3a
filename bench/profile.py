"""`python -m bench.profile patch|landing [--bare] [--requests N] [--top N] [--own]`: our CPU
per request on one path, in one process and without a network in between, and where it goes
(cProfile; `--own` sorts by each function's own time, `--dump FILE` keeps the raw profile for
`python -m pstats`).

The requests go straight into the WSGI application (all middleware, our views, the database on
PostgreSQL at DATABASE_URL, as in `python -m bench`), so the figure is the CPU the web process
spends on a request, which a shared machine's load does not skew the way it skews requests/s;
beside it, the CPU the PostgreSQL backends spent on the same requests (when the server runs on
this machine), the other half of what a request costs there.
With `--bare` the same is measured for the yardstick (`bench.settings_bare`: no middleware, the
bare views). Setup: `patch` stores a registered CPO with 50 locations (100 EVSEs) and its access
token; `landing` stores the station of `python -m bench landing` with 200 filler locations.
Prints the top functions by cumulative time, then one JSON line."""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.support import app_env, cpu_seconds, scratch_database


def _call(application: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []

    def start_response(value: str, headers: Any, exc_info: Any = None) -> None:
        status.append(value)

    chunks = application(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return status[0], body


def _environ(method: str, path: str, body: bytes = b"", **headers: str) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "HTTP_HOST": "127.0.0.1:8000",
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def _database_cpu() -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend serving the scratch database, read
    from /proc: the database's share of a request's cost, which requests/s pay for on a machine
    that runs both (empty when the server runs elsewhere)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [row[0] for row in cursor.fetchall()]
    used = {pid: cpu_seconds(pid) for pid in pids}
    return {pid: value for pid, value in used.items() if value is not None}


def _used_since(before: dict[int, float], after: dict[int, float]) -> float | None:
    if not after:
        return None
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def _patch_setup() -> Callable[[int, bool], dict[str, Any]]:
    from cpo_simulator.fleet import Fleet
    from cpo_simulator.locations import location_object
    from ocpi_peer import crypto, versions
    from ocpi_peer.models import Partner, PartnerParty, PartnerToken
    from stations import services

    partner = Partner(name="Profiled CPO", status=Partner.Status.REGISTERED, version="2.2.1")
    partner.party_keys = ["NL*SIM"]
    partner.save()
    PartnerParty.objects.create(partner=partner, role="CPO", country_code="NL", party_id="SIM")
    plain = crypto.new_token()
    PartnerToken.objects.create(
        partner=partner,
        kind=PartnerToken.Kind.ACCESS,
        token_hash=crypto.token_hash(plain),
        token_encrypted=crypto.encrypt(plain),
    )
    spec = versions.get("2.2.1")
    fleet = Fleet(country_code="NL", party_id="SIM", operator_name="Profiled CPO")
    locations = [location_object("2.2.1", i, fleet) for i in range(50)]
    services.store_owned_locations(
        partner=partner, locations=[spec.read(spec.location, loc) for loc in locations]
    )
    evses = [(loc["id"], evse["uid"]) for loc in locations for evse in loc["evses"]]
    authorization = "Token " + base64.b64encode(plain.encode()).decode()
    stamp = int(time.time() * 1000)

    def request(number: int, bare: bool) -> dict[str, Any]:
        location, evse = evses[number % len(evses)]
        at = datetime.fromtimestamp((stamp + number) / 1000, UTC).isoformat()
        body = json.dumps({"status": "CHARGING", "last_updated": at}).encode()
        if bare:
            return _environ("PATCH", f"/bench/bare/locations/NL/SIM/{location}/{evse}", body)
        return _environ(
            "PATCH",
            f"/ocpi/2.2.1/locations/NL/SIM/{location}/{evse}",
            body,
            authorization=authorization,
            **{
                "OCPI-from-country-code": "NL",
                "OCPI-from-party-id": "SIM",
                "OCPI-to-country-code": "DE",
                "OCPI-to-party-id": "CPY",
                "X-Request-ID": f"req-{number}",
                "X-Correlation-ID": f"corr-{number}",
            },
        )

    return request


def _landing_setup() -> Callable[[int, bool], dict[str, Any]]:
    from bench import landing

    stdout = sys.stdout
    sys.stdout = io.StringIO()
    try:
        landing.setup(["--filler", "200"])
        evse_ids = json.loads(sys.stdout.getvalue())["evse_ids"]
    finally:
        sys.stdout = stdout

    def request(number: int, bare: bool) -> dict[str, Any]:
        evse_id = evse_ids[number % len(evse_ids)]
        language = landing.LANGUAGES[(number // len(evse_ids)) % len(landing.LANGUAGES)]
        prefix = "/bench/bare/charge" if bare else "/charge"
        return _environ("GET", f"{prefix}/{evse_id}/", accept_language=language)

    return request


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("path", choices=["patch", "landing"])
    parser.add_argument("--bare", action="store_true", help="the yardstick instead of ours")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--own", action="store_true", help="sort by own time, not cumulative")
    parser.add_argument("--dump", metavar="FILE", help="also write the raw profile (pstats) here")
    args = parser.parse_args(argv)
    with scratch_database(require_postgres=True, name="chargepay_profile") as db:
        os.environ.update(app_env(db.url))
        os.environ["DATABASE_URL"] = db.url + ("&" if "?" in db.url else "?") + "conn_max_age=60"
        os.environ["DJANGO_SETTINGS_MODULE"] = (
            "bench.settings_bare" if args.bare else "config.settings"
        )
        import django

        django.setup()
        from django.core.wsgi import get_wsgi_application

        application = get_wsgi_application()
        from django.db import connections

        from ocpi_peer import traffic

        request = _patch_setup() if args.path == "patch" else _landing_setup()
        for number in range(200):  # warm up: imports, caches, the connection
            status, body = _call(application, request(number, args.bare))
            if not status.startswith("200"):
                raise SystemExit(f"{status}: {body[:300]!r}")
        traffic.buffer.flush()
        database = _database_cpu()
        started, cpu = time.perf_counter(), time.process_time()
        for number in range(200, 200 + args.requests):
            _call(application, request(number, args.bare))
        traffic.buffer.flush()  # its rows are part of the requests' cost
        cpu, wall = time.process_time() - cpu, time.perf_counter() - started
        database_cpu = _used_since(database, _database_cpu())
        profiler = cProfile.Profile(time.process_time)  # CPU, not waits
        profiler.enable()
        for number in range(200 + args.requests, 200 + 2 * args.requests):
            _call(application, request(number, args.bare))
        profiler.disable()
        traffic.buffer.flush()  # before the scratch database goes
        connections.close_all()
    if args.dump:
        profiler.dump_stats(args.dump)
    out = io.StringIO()
    order = "tottime" if args.own else "cumulative"
    pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
    sys.stderr.write(out.getvalue())
    print(
        json.dumps(
            {
                "path": args.path,
                "app": "bare" if args.bare else "ours",
                "requests": args.requests,
                "cpu_us_per_request": round(cpu / args.requests * 1e6),
                "wall_us_per_request": round(wall / args.requests * 1e6),
                "db_cpu_us_per_request": None
                if database_cpu is None
                else round(database_cpu / args.requests * 1e6),
                "note": "measured without the profiler, before the profiled run",
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
