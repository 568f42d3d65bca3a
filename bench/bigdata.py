"""`python -m bench bigdata [--checkouts 1000000] [--traffic-rows 10000000]`: do the hot paths cost
the same on a database of a year's trade as on an empty one?

Everything runs on 127.0.0.1: our app under gunicorn (gthread 1×4) on PostgreSQL (scratch
database `chargepay_bench_bigdata`), one Celery worker (`-c 1`) on Redis (database REDIS_DB,
which must be empty, flushed afterwards), the fake Stripe, and, inside the measuring process
(`python -m bench.bigdata measure`), the CPO simulator (OCPI 2.2.1, CDRs held until we POST
them). We register with it, pull its stations, and make real checkouts as drivers do (bench.start's
`Driver`); two of them charge on, two have their sessions ended and their CDRs held.

Then, twice, first on that nearly empty database and then after it has grown, each hot request
is made in the measuring process through Django's handler (django.test.Client: middleware,
authentication, views) and `payments.tasks.settle_cdr` is called as the worker calls it, each
inside Django's `CaptureQueriesContext`: the driver's pages and API (landing page, EVSE, new
checkout, checkout page, status poll, receipt), the CPO's pushes (Session PATCH, EVSE status
PATCH, CDR POST) and the settlement. Every statement captured is EXPLAINed on the grown database
(`EXPLAIN (ANALYZE, FORMAT JSON)` for reads, plain `EXPLAIN` for writes, which it does not run),
and a sequential scan of a big table (over BIG_TABLE rows) is flagged: each one is a cost that
grows with the data. Each request's wall time (median of REPEAT, in-process, PostgreSQL
included) is given on both databases, with the time its statements took (timed around each
by an execute wrapper): the pages read are the first phase's on both, so only the data around
them has changed, and the statements' time tells a database that slows from a machine that is
busier in one phase than in the other (the growth is written out by a CHECKPOINT before the
second).

The growth is made in PostgreSQL itself (INSERT … SELECT over generate_series, cloning the
real rows' shape): `--checkouts` settled checkouts over the past year (1,000,000 by default), each
with its driver token, START_SESSION, session, CDR and ledger rows (hold, capture, payable), and
`--traffic-rows` traffic-log rows over the past 180 days (10,000,000), so that half of them are
past the retention and the purge has work. It says how long that took.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.support import (
    PYTHON,
    BenchError,
    Budget,
    Figure,
    app_env,
    gunicorn,
    read_line,
    redis_database,
    say,
    scratch_database,
    start,
    stop,
    wait_until,
)

CHECKOUTS = 1_000_000
TRAFFIC_ROWS = 10_000_000
REDIS_DB = 12
LOCATIONS = 100
BIG_TABLE = 50_000  # rows from which a sequential scan is flagged
REPEAT = 30
SKIPPED = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "SET ")


def run(checkouts: int = CHECKOUTS, traffic_rows: int = TRAFFIC_ROWS) -> list[Figure]:
    budget = Budget(900 + checkouts / 1_000_000 * 900 + traffic_rows / 10_000_000 * 600, "bigdata")
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_database(REDIS_DB))
        db = stack.enter_context(
            scratch_database(require_postgres=True, name="chargepay_bench_bigdata")
        )
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chargepay-big-")))
        say(f"bigdata: database {db.description}; broker {redis_url}")
        result = _run(budget, db.url, redis_url, scratch, checkouts, traffic_rows)
        return _figures(db.description, result)


def _run(
    budget: Budget,
    database_url: str,
    redis_url: str,
    scratch: Path,
    checkouts: int,
    traffic_rows: int,
) -> dict[str, Any]:
    from bench.start import _fake_stripe

    with ExitStack() as stack:
        stripe, stripe_url = _fake_stripe(scratch)
        stack.callback(stop, stripe)
        env = app_env(database_url) | {
            "CELERY_BROKER_URL": redis_url,
            "STRIPE_API_BASE": stripe_url,
            "STRIPE_JS_URL": f"{stripe_url}/js.stripe.com/v3/",
            "CHECKOUT_RATE_LIMIT": "1000000/1m",
            "CHECKOUT_RATE_LIMIT_PER_EVSE": "1000000/1m",
        }
        our_url = stack.enter_context(gunicorn(env, workers=1, worker_class="gthread", threads=4))
        env = {**env, "PUBLIC_BASE_URL": our_url}
        with (scratch / "celery.log").open("wb") as log:
            args = [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "warning", "-c", "1"]
            worker = start(args, env, stdout=log, stderr=subprocess.STDOUT)
        stack.callback(stop, worker)
        args = [
            PYTHON, "-m", "bench.bigdata", "measure",
            "--our-url", our_url,
            "--stripe-url", stripe_url,
            "--database-url", database_url,
            "--budget", str(budget.remaining() - 30),
            "--checkouts", str(checkouts),
            "--traffic-rows", str(traffic_rows),
        ]  # fmt: skip
        # Its own tasks (the CDR POST's settle_cdr) go nowhere: it runs them itself.
        child_env = {**env, "CELERY_BROKER_URL": "memory://"}
        measurer = start(args, child_env, stdout=subprocess.PIPE)  # stderr: progress
        stack.callback(stop, measurer)
        line = read_line(measurer, timeout=budget.remaining(), what="bench.bigdata")
    result: dict[str, Any] = json.loads(line)
    if "error" in result:
        raise BenchError(result["error"])
    return result


# --- the table -------------------------------------------------------------------------------


def _figures(database: str, r: dict[str, Any]) -> list[Figure]:
    empty, big = r["empty"], r["big"]
    figures = [
        Figure("bigdata", "database, growth", None, "", note=f"{database}; {r['generated']}"),
    ]
    for label in big:
        before, after = empty.get(label), big[label]
        note = (
            f"{after['queries']} queries (empty: {before['queries'] if before else '-'}) taking"
            f" {after['sql_ms']:.2f} ms (empty: {before['sql_ms']:.2f} ms)"
            if before
            else f"{after['queries']} queries taking {after['sql_ms']:.2f} ms"
        )
        if before:
            note = f"empty database {before['ms']:.1f} ms; " + note
        figures.append(
            Figure(
                "bigdata", f"{label}, median", after["ms"], "ms", note=note + f", n={after['n']}"
            )
        )
    purge = r["purge"]
    if purge["batches"]:
        figures.append(
            Figure("bigdata", "traffic-log purge, per batch", purge["seconds"] * 1000
                   / purge["batches"], "ms", note=f"{purge['deleted']:,} rows past the retention "
                   f"deleted in {purge['batches']} batches, {purge['seconds']:.1f} s in all")
        )  # fmt: skip
    scans = r["seq_scans"]
    figures.append(
        Figure("bigdata", "sequential scans of big tables in hot queries", len(scans), "",
               "0", not scans, "; ".join(f"{s['label']}: {s['table']} ({s['sql'][:160]})"
                                        for s in scans[:6]))
    )  # fmt: skip
    for slow in r["slowest"]:
        figures.append(
            Figure("bigdata", f"  slowest read: {slow['label']}", slow["ms"], "ms",
                   note=slow["sql"][:200])
        )  # fmt: skip
    return figures


# --- the measuring process -------------------------------------------------------------------


def measure(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bigdata measure")
    parser.add_argument("--our-url", required=True)
    parser.add_argument("--stripe-url", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--budget", type=float, required=True)
    parser.add_argument("--checkouts", type=int, default=CHECKOUTS)
    parser.add_argument("--traffic-rows", type=int, default=TRAFFIC_ROWS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from cpo_simulator import CpoSimulator

    budget = Budget(args.budget, "bigdata measure")
    sim = CpoSimulator(
        versions=("2.2.1",),
        country_code="NL",
        party_id="BIG",
        location_count=LOCATIONS,
        time_scale=60,
        update_interval=3600,  # the measurement PATCHes the sessions itself
        cdr_fault="late",  # held until we POST them
    ).start()
    try:
        world = _prepare(sim, args, budget)
        empty, _ = _measure(sim, world, phase=0)
        generated = _grow(args.database_url, world, args.checkouts, args.traffic_rows)
        say(f"bigdata: {generated}")
        big, captured = _measure(sim, world, phase=1)
        purge, purge_queries = _purge()
        seq_scans, slowest = _explain(args.database_url, captured + purge_queries)
        result: dict[str, Any] = {
            "empty": empty,
            "big": big,
            "generated": generated,
            "seq_scans": seq_scans,
            "slowest": slowest,
            "purge": purge,
        }
    except BenchError as exc:
        result = {"error": str(exc)}
    finally:
        sim.stop()
    print(json.dumps(result, default=str), flush=True)


def _prepare(sim: Any, args: argparse.Namespace, budget: Budget) -> dict[str, Any]:
    """Register the CPO, pull its stations, and make four checkouts: two charging, two whose
    sessions ended and whose CDRs the simulator holds (one of each per phase)."""
    from bench.settle import _Drivers
    from bench.start import _available_evses
    from ocpi_peer import sync
    from ocpi_peer.registration import invite_partner
    from payments.models import ChargingSession, Checkout

    partner, token_a = invite_partner(name="Big CPO")
    answer = sim.register_with(f"{args.our_url}/ocpi/versions", token_a)
    if answer.status_code != 200 or answer.json().get("status_code") != 1000:
        raise BenchError(f"the CPO could not register: {answer.status_code} {answer.text[:300]}")
    for module in ("locations", "tariffs"):
        sync.pull(partner_id=partner.pk, module=module, full=True)
    evses = _available_evses(args.database_url)
    no_worker: Any = None
    drivers = _Drivers(
        args.our_url, args.stripe_url, args.database_url, budget, no_worker, no_worker
    )
    public_ids = drivers.concurrently(evses[:4], 2)
    charging, ending = public_ids[:2], public_ids[2:]
    for public_id in ending:
        session = ChargingSession.objects.get(checkout__public_id=public_id)
        sim.end_session(session.session_id, timeout=60)

    def held() -> bool:
        with sim.lock:
            return len(sim.cdr_book.held) >= 2

    wait_until(held, timeout=budget.remaining(60), what="the simulator's CDRs")
    finished = Checkout.objects.filter(public_id__in=ending, status="finished")
    wait_until(lambda: finished.count() == 2, timeout=budget.remaining(60), what="finished")
    with sim.lock:
        cdrs = {cdr.body["authorization_reference"]: cdr.body for cdr in sim.cdr_book.held}
    refs = dict(
        Checkout.objects.filter(public_id__in=ending).values_list(
            "public_id", "authorization_reference"
        )
    )
    return {
        "partner_id": partner.pk,
        "evses": evses,
        "charging": charging,
        "ending": ending,
        "cdrs": [cdrs[refs[public_id]] for public_id in ending],
    }


def _measure(
    sim: Any, world: dict[str, Any], *, phase: int
) -> tuple[dict[str, dict[str, Any]], list[tuple[str, str]]]:
    """Each hot request (and the settlement) in this process: its median wall time and query
    count, and every statement it ran, as (label, SQL)."""
    import simplejson
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.settle import _headers
    from payments import tasks
    from payments.models import Cdr, ChargingSession, Checkout
    from stations.models import Evse

    client = Client()
    figures: dict[str, dict[str, Any]] = {}
    captured: list[tuple[str, str]] = []
    charging = world["charging"][phase]
    ending = world["ending"][phase]
    # The pages are read for the first phase's checkouts on both databases (the growth leaves
    # them as they were), so that what the pages show is the same and only the data around it
    # has grown: another checkout's receipt (other periods, other signed data) costs otherwise.
    shown, receipt_of = world["charging"][0], world["ending"][0]
    cdr_body = world["cdrs"][phase]
    evse_ids = world["evses"][10 + phase * 40 : 50 + phase * 40]
    session = ChargingSession.objects.get(checkout__public_id=charging)
    evse = Evse.objects.select_related("location").get(checkouts__public_id=charging)
    shown_evse = Evse.objects.get(checkouts__public_id=shown).evse_id
    sessions_url = sim.emsp_endpoints["sessions"].split("://", 1)[1].split("/", 1)[1]
    locations_url = sim.emsp_endpoints["locations"].split("://", 1)[1].split("/", 1)[1]
    cdrs_url = sim.emsp_endpoints["cdrs"].split("://", 1)[1].split("/", 1)[1]
    ocpi = {"content_type": "application/json"}
    stamp = [session.last_updated]

    def ok(answer: Any, status: int, what: str) -> None:
        if answer.status_code != status:
            raise BenchError(f"{what}: {answer.status_code} {answer.content[:300]!r}")

    def session_patch(n: int) -> None:
        from datetime import timedelta

        stamp[0] += timedelta(minutes=1)
        body = {"kwh": str(1 + n / 10), "last_updated": stamp[0].isoformat().replace("+00:00", "Z")}
        ok(client.patch(f"/{sessions_url}/NL/BIG/{session.session_id}", json.dumps(body),
                        headers=_headers(sim), **ocpi), 200, "Session PATCH")  # fmt: skip

    def status_patch(n: int) -> None:
        from django.utils import timezone

        body = {"status": "CHARGING", "last_updated": timezone.now().isoformat()}
        path = f"/{locations_url}/NL/BIG/{evse.location.ocpi_id}/{evse.uid}"
        ok(client.patch(path, json.dumps(body), headers=_headers(sim), **ocpi), 200, "EVSE PATCH")

    def new_checkout(n: int) -> None:
        body = {"evse_id": evse_ids[n % len(evse_ids)], "connector_id": "1"}
        ok(client.post("/api/v1/checkouts", body, content_type="application/json"), 201, "POST")

    def cdr_post(n: int) -> None:
        body = simplejson.dumps(cdr_body, use_decimal=True)
        ok(client.post(f"/{cdrs_url}", body, headers=_headers(sim), **ocpi), 201, "CDR POST")

    def settle(n: int) -> None:
        key = {"country_code": "NL", "party_id": "BIG", "cdr_id": cdr_body["id"]}
        pk = Cdr.objects.values_list("pk", flat=True).get(**key)
        outcome = tasks.settle_cdr(pk)
        if not str(outcome).startswith("captured"):
            raise BenchError(f"settle_cdr: {outcome}")

    def get(path: str) -> Callable[[int], None]:
        def call(n: int) -> None:
            ok(client.get(path), 200, path)

        return call

    requests: list[tuple[str, Callable[[int], None], int]] = [
        ("landing page GET /charge/<evse>/", get(f"/charge/{shown_evse}/"), REPEAT),
        ("EVSE GET /api/v1/evses/<evse>", get(f"/api/v1/evses/{shown_evse}"), REPEAT),
        ("new checkout POST /api/v1/checkouts", new_checkout, 5),
        ("checkout page GET /checkout/<id>/", get(f"/checkout/{shown}/"), REPEAT),
        ("status poll GET /api/v1/checkouts/<id>", get(f"/api/v1/checkouts/{shown}"), REPEAT),
        ("Session PATCH (charging)", session_patch, REPEAT),
        ("EVSE status PATCH", status_patch, REPEAT),
        ("CDR POST", cdr_post, 1),
        ("settlement: settle_cdr (capture at the fake Stripe)", settle, 1),
        (
            "receipt page GET /checkout/<id>/receipt/",
            get(f"/checkout/{receipt_of}/receipt/"),
            REPEAT,
        ),
    ]
    if phase:  # the receipt settled on the grown database: its own content beside the growth
        requests.append(
            ("  receipt page of the checkout settled here", get(f"/checkout/{ending}/receipt/"), 10)
        )
    for label, call, times in requests:
        say(f"bigdata: {'grown' if phase else 'empty'}: {label} ×{times}")
        once = times == 1  # a CDR is POSTed and settled once: no warm-up, no repeat
        if not once:
            call(0)  # warm: caches, connections
        connection.queries_log.clear()  # a bounded deque: once full, its length stands still
        with CaptureQueriesContext(connection) as queries:
            first = _timed(connection, call, 1)
        count = len(queries)  # now: the next request empties the log
        captured += [(label, query["sql"]) for query in queries]
        # The first call ran with the query log: it counts only for what is done once.
        runs = [first] if once else []
        runs += [_timed(connection, call, n) for n in range(2, 2 + times - once)]
        figures[label] = {
            "ms": statistics.median(wall for wall, _ in runs),
            "sql_ms": statistics.median(sql for _, sql in runs),
            "queries": count,
            "n": times,
        }
    if not Checkout.objects.filter(public_id=ending, status="settled").exists():
        raise BenchError(f"checkout {ending} not settled after its CDR")
    return figures, captured


def _timed(connection: Any, call: Callable[[int], None], n: int) -> tuple[float, float]:
    """`call(n)`'s wall time and its statements' time, in ms."""
    clock = _SqlClock()
    with connection.execute_wrapper(clock):
        began = time.perf_counter()
        call(n)
        wall = (time.perf_counter() - began) * 1000
    return wall, clock.ms


class _SqlClock:
    """Django's execute wrapper that adds up the wall time of the statements run through it
    (the query log's own times are rounded to the millisecond)."""

    def __init__(self) -> None:
        self.ms = 0.0

    def __call__(self, execute: Callable[..., Any], *args: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(*args)
        finally:
            self.ms += (time.perf_counter() - began) * 1000


def _purge() -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The traffic log's purge on the grown log, with a retention one day short of the log's
    180 days: the oldest day's rows go, batch by batch, as the nightly purge deletes a day."""
    from datetime import timedelta

    from django.db import connection
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext

    from ocpi_peer.tasks import PURGE_BATCH, purge_traffic_log

    say("bigdata: purging the traffic log's oldest day")
    with (
        override_settings(OCPI_TRAFFIC_RETENTION=timedelta(days=179)),
        CaptureQueriesContext(connection) as queries,
    ):
        began = time.perf_counter()
        deleted = purge_traffic_log()
        seconds = time.perf_counter() - began
    batches = -(-deleted // PURGE_BATCH)
    figures = {"deleted": deleted, "seconds": seconds, "batches": batches}
    kept = [query["sql"] for query in queries][:2]  # the first batch's SELECT and DELETE
    return figures, [("traffic-log purge, one batch", sql) for sql in kept]


# --- growing the data ------------------------------------------------------------------------


def _grow(database_url: str, world: dict[str, Any], checkouts: int, traffic_rows: int) -> str:
    """Clone the settled checkout of the first phase (and its token, command, session, CDR and
    ledger rows) `checkouts` times over the past year, and a logged request `traffic_rows` times
    over the past 180 days, all in PostgreSQL; then VACUUM ANALYZE, as autovacuum would."""
    import psycopg

    url = database_url.split("?", 1)[0].replace("postgres://", "postgresql://", 1)
    template_public_id = world["ending"][0]
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("SET synchronous_commit = off")
        (template,) = pg.execute(
            "SELECT id FROM payments_checkout WHERE public_id = %s", (template_public_id,)
        ).fetchone() or (None,)
        (last,) = pg.execute("SELECT max(id) FROM payments_checkout").fetchone() or (0,)
        started = time.monotonic()
        evses = pg.execute(
            """SELECT e.id, c.id FROM stations_evse e JOIN stations_connector c
               ON c.evse_id = e.id AND c.connector_id = '1' ORDER BY e.id"""
        ).fetchall()
        evse_ids = "ARRAY[" + ",".join(str(e) for e, _ in evses) + "]"
        connector_ids = "ARRAY[" + ",".join(str(c) for _, c in evses) + "]"
        n = len(evses)
        at = f"now() - g * interval '1 second' * {365 * 86400 / checkouts}"
        _clone(
            pg,
            "payments_checkout",
            f"FROM payments_checkout t, generate_series(1, {checkouts}) g WHERE t.id = {template}",
            {
                "public_id": "'bd' || md5(g::text)",
                "authorization_reference": "'bd-' || g",
                "evse_id": f"({evse_ids})[1 + g % {n}]",
                "connector_id": f"({connector_ids})[1 + g % {n}]",
                "evse_claim_id": "NULL",
                "stripe_setup_intent": "'seti_bd' || g",
                "stripe_payment_intent": "'pi_bd' || g",
                "client_ip": "('10.' || (g / 65536 % 256) || '.' || (g / 256 % 256) || '.' || "
                "(g % 256))::inet",
                "client_net": "'10.' || (g / 65536 % 256) || '.' || (g / 256 % 256) || '.' || "
                "(g % 256)",
                "email": "CASE WHEN g % 3 = 0 THEN 'driver' || g || '@example.com' ELSE '' END",
                "status": "CASE WHEN g % 40 = 0 THEN 'failed' WHEN g % 41 = 0 THEN 'expired' "
                "ELSE 'settled' END",
                "created_at": at,
                "authorized_at": f"{at} + interval '40 seconds'",
                "ended_at": f"{at} + interval '50 minutes'",
                "settled_at": f"{at} + interval '51 minutes'",
                "capture_before": f"{at} + interval '6 days'",
                "stop_requested_at": f"{at} + interval '50 minutes'",
            },
        )
        say(f"bigdata: {checkouts:,} checkouts in {time.monotonic() - started:.0f} s")
        children = (
            f"FROM {{table}} t, payments_checkout c WHERE t.checkout_id = {template} "
            f"AND c.id > {last}"
        )
        _clone(
            pg,
            "payments_drivertoken",
            children.format(table="payments_drivertoken"),
            {"checkout_id": "c.id", "uid": "'BD' || c.id", "auth_id": "'BDA' || c.id",
             "last_updated": "c.created_at", "pushed_at": "c.created_at"},
        )  # fmt: skip
        _clone(
            pg,
            "ocpi_peer_commandrequest",
            children.format(table="ocpi_peer_commandrequest") + " AND t.command = 'START_SESSION'",
            {"checkout_id": "c.id", "callback_id": "'bd' || c.id", "created_at": "c.created_at",
             "sent_at": "c.created_at", "responded_at": "c.created_at",
             "result_at": "c.created_at"},
        )  # fmt: skip
        _clone(
            pg,
            "payments_chargingsession",
            children.format(table="payments_chargingsession"),
            {"checkout_id": "c.id", "session_id": "'bd' || c.id",
             "authorization_reference": "c.authorization_reference",
             "start": "c.created_at", '"end"': "c.ended_at", "last_updated": "c.ended_at",
             "pushed_at": "c.ended_at"},
        )  # fmt: skip
        _clone(
            pg,
            "payments_cdr",
            children.format(table="payments_cdr"),
            {"checkout_id": "c.id", "cdr_id": "'bd' || c.id", "session_id": "'bd' || c.id",
             "authorization_reference": "c.authorization_reference",
             "start": "c.created_at", '"end"': "c.ended_at", "received_at": "c.ended_at"},
        )  # fmt: skip
        _clone(
            pg,
            "payments_signedpage",
            f"FROM payments_signedpage t, payments_cdr d WHERE t.checkout_id = {template} "
            f"AND d.checkout_id > {last}",
            {"checkout_id": "d.checkout_id", "cdr_id": "d.id", "page": "'T' || d.id"},
        )  # fmt: skip
        _clone(
            pg,
            "payments_ledgerentry",
            children.format(table="payments_ledgerentry")
            + " AND t.kind IN ('hold', 'capture', 'payable')",
            {"checkout_id": "c.id", "idempotency_key": "t.kind || ':bd' || c.id",
             "stripe_id": "c.stripe_payment_intent", "created_at": "c.settled_at"},
        )  # fmt: skip
        say(f"bigdata: their rows in {time.monotonic() - started:.0f} s")
        (row,) = pg.execute(
            """SELECT id FROM ocpi_peer_trafficlog WHERE direction = 'in' AND method = 'PATCH'
               ORDER BY id DESC LIMIT 1"""
        ).fetchone() or (None,)
        if row is None:
            raise BenchError("no PATCH in the traffic log to clone")
        spread = 180 * 86400 / traffic_rows
        _clone(
            pg,
            "ocpi_peer_trafficlog",
            f"FROM ocpi_peer_trafficlog t, generate_series(1, {traffic_rows}) g WHERE t.id = {row}",
            {"created_at": f"now() - g * interval '1 second' * {spread}",
             "url": "t.url || '/' || g", "request_id": "md5(g::text)",
             "correlation_id": "md5(g::text)"},
        )  # fmt: skip
        say(f"bigdata: {traffic_rows:,} traffic-log rows after {time.monotonic() - started:.0f} s")
        pg.execute("VACUUM ANALYZE")
        # Written out now, not by the checkpointer while the grown database is measured.
        pg.execute("CHECKPOINT")
        seconds = time.monotonic() - started
    return (
        f"{checkouts:,} checkouts (each with token, command, session, CDR, 3 ledger rows) and "
        f"{traffic_rows:,} traffic-log rows generated and analysed in {seconds:.0f} s"
    )


def _clone(pg: Any, table: str, source: str, overrides: dict[str, str]) -> None:
    """INSERT INTO table SELECT … `source`: every column copied from the template row `t`
    unless `overrides` says otherwise (its keys quoted where they are SQL words)."""
    columns = [
        row[0]
        for row in pg.execute(
            """SELECT column_name FROM information_schema.columns
               WHERE table_name = %s AND column_name <> 'id' ORDER BY ordinal_position""",
            (table,),
        )
    ]
    quoted = [f'"{c}"' for c in columns]
    values = [overrides.get(c, overrides.get(f'"{c}"', f't."{c}"')) for c in columns]
    pg.execute(f"INSERT INTO {table} ({', '.join(quoted)}) SELECT {', '.join(values)} {source}")


# --- EXPLAIN ---------------------------------------------------------------------------------


def _explain(
    database_url: str, captured: list[tuple[str, str]]
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """EXPLAIN every statement captured (reads with ANALYZE); the sequential scans of big
    tables, and the five slowest reads."""
    import psycopg

    url = database_url.split("?", 1)[0].replace("postgres://", "postgresql://", 1)
    scans: list[dict[str, str]] = []
    reads: list[dict[str, Any]] = []
    seen: set[str] = set()
    with psycopg.connect(url, autocommit=True) as pg:
        sizes = dict(
            pg.execute(
                "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' AND reltuples > %s",
                (BIG_TABLE,),
            ).fetchall()
        )
        for label, sql in captured:
            if sql.upper().startswith(SKIPPED) or sql in seen:
                continue
            seen.add(sql)
            read = sql.lstrip().upper().startswith("SELECT")
            options = "ANALYZE, FORMAT JSON" if read else "FORMAT JSON"
            try:
                (plan,) = pg.execute(f"EXPLAIN ({options}) {sql}").fetchone() or (None,)
            except psycopg.Error as exc:
                say(f"bigdata: cannot EXPLAIN ({exc}): {sql[:200]}")
                continue
            top = plan[0]
            for node in _nodes(top["Plan"]):
                table = node.get("Relation Name")
                if node["Node Type"] == "Seq Scan" and table in sizes:
                    scans.append({"label": label, "table": table, "sql": sql})
                    say(f"bigdata: SEQUENTIAL SCAN of {table} ({label}): {sql}")
            if read:
                reads.append({"label": label, "ms": top["Execution Time"], "sql": sql})
                if top["Execution Time"] > 1:
                    say(f"bigdata: {top['Execution Time']:.1f} ms ({label}): {sql}\n"
                        + json.dumps(top["Plan"], indent=1)[:3000])  # fmt: skip
    reads.sort(key=lambda read: -read["ms"])
    return scans, reads[:5]


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


if __name__ == "__main__":
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command != "measure":
        sys.exit("usage: python -m bench.bigdata measure … (run by `python -m bench bigdata`)")
    measure(rest)
