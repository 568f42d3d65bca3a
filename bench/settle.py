"""`python -m bench settle`: our own CPU time per reconciled CDR, and CDRs settled per second by
one Celery worker against localstripe.

Everything runs on 127.0.0.1 as in production: our app under gunicorn (gthread 2×4) on
PostgreSQL (scratch database `chargepay_bench_settle`), one Celery worker (`-c 1`, prefork,
`-l warning`) on Redis (a database of its own, REDIS_DB, which must be empty before and is
flushed after), and the fake Stripe (`python -m config.fakestripe`, i.e. localstripe). The CPO
is the simulator (`cpo_simulator.CpoSimulator`, OCPI 2.2.1, AD_HOC_PAYMENT tariffs) run
inside the measuring process (`python -m bench.settle measure`), because its CDRs are held back
(`cdr_fault="late"`) and the benchmark decides when and how they are POSTed.

The checkouts are made as drivers make them (bench.start's `Driver`: POST /api/v1/checkouts,
Stripe.js's confirmCardSetup at localstripe, POST /pay, 8 drivers at a time), so each is held at
localstripe (a PaymentIntent in `requires_capture`), its token pushed, START_SESSION sent by the
worker and its Session pushed to us by the simulator. The sessions then end (the car is full:
`CpoSimulator.end_session`), the COMPLETED Session reaches us, the checkout is `finished`, and
the simulator builds its CDR (signed OCMF meter values included) and holds it.

1. CPU per CDR, in the measuring process, one CDR after the other, WARMUP first (not counted):
   the CDR POST through Django's WSGI handler exactly as gunicorn calls it (middleware, token
   authentication, the CdrSerializer, `settlement.record_cdr`, the answer), then
   `payments.tasks.settle_cdr` called as the worker calls it (`plan_capture`, the Stripe capture,
   `record_capture`). Each `payments.gateway` call is timed on its own and taken out: the figure
   is this thread's CPU time (`time.thread_time`, which other processes cannot inflate) minus
   the CPU spent inside gateway calls. PostgreSQL's own work is in the wall-time figure only.
   Here `record_cdr` enqueues `settle_cdr` on an in-memory broker that nobody consumes (with
   Redis the enqueue is a socket write; the task itself is what we call next).
2. Throughput: the other CDRs, POSTed over HTTP to gunicorn's cdrs endpoint by the simulator
   (`CpoSimulator.call_us`, POSTERS threads), each enqueuing `settle_cdr` on Redis for the one
   worker. From the first POST to the last checkout's `settled_at`; the worker's CPU (pool
   parent and child, from /proc) per CDR beside it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from bench.start import STARTED_WITHIN, Driver, _available_evses, _fake_stripe
from bench.support import (
    PYTHON,
    BenchError,
    Budget,
    Figure,
    app_env,
    gunicorn,
    quantile,
    read_line,
    redis_database,
    say,
    scratch_database,
    start,
    stop,
    tree_cpu_seconds,
    wait_until,
)

BUDGET_SECONDS = 1200
REDIS_DB = 13
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
CPU_CDRS, WARMUP, THROUGHPUT_CDRS = 200, 5, 200
LOCATIONS = 240  # 480 EVSEs, of which about 420 AVAILABLE: one for each checkout
DRIVERS, ENDERS, POSTERS = 8, 8, 4
TARGET_CPU_MS = 20.0
GATEWAY_CALLS = ("capture", "cancel", "refund", "retrieve", "place_hold")
# BENCH_SETTLE_AD_HOC=1: the CPO also offers AD_HOC_PAYMENT twins, which the driver is shown; it
# bills eMSP-started sessions by its REGULAR tariff (B-9), so every CDR differs from the price
# shown and is settled on the flagged path (the lower price captured, a Case opened).
AD_HOC = os.environ.get("BENCH_SETTLE_AD_HOC", "") not in ("", "0")


def run(budget_seconds: float = BUDGET_SECONDS) -> list[Figure]:
    budget = Budget(budget_seconds, "settle")
    with (
        redis_database(REDIS_DB),
        scratch_database(require_postgres=True, name="chargepay_bench_settle") as db,
        tempfile.TemporaryDirectory(prefix="chargepay-bench-settle-") as scratch,
    ):
        say(f"settle: database {db.description}; broker {REDIS_URL}")
        result = _run(budget, db.url, Path(scratch))
        return _figures(db.description, result)


def _run(budget: Budget, database_url: str, scratch: Path) -> dict[str, Any]:
    stripe, stripe_url = _fake_stripe(scratch)
    env = app_env(database_url) | {
        "CELERY_BROKER_URL": REDIS_URL,
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_JS_URL": f"{stripe_url}/js.stripe.com/v3/",
        "CHECKOUT_RATE_LIMIT": "100000/1m",  # every driver comes from 127.0.0.1 here
    }
    try:
        with gunicorn(env, workers=2, worker_class="gthread", threads=4) as our_url:
            env = {**env, "PUBLIC_BASE_URL": our_url}
            worker_log = scratch / "celery.log"
            with worker_log.open("wb") as log:
                worker = start(
                    [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "warning", "-c", "1"],
                    env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                args = [
                    PYTHON, "-m", "bench.settle", "measure",
                    "--our-url", our_url,
                    "--stripe-url", stripe_url,
                    "--database-url", database_url,
                    "--worker-pid", str(worker.pid),
                    "--budget", str(budget.remaining() - 30),
                    "--cdrs", str(CPU_CDRS),
                    "--throughput-cdrs", str(THROUGHPUT_CDRS),
                ]  # fmt: skip
                # Its own tasks (the CPU part's settle_cdr) go nowhere: it runs them itself.
                child_env = {**env, "CELERY_BROKER_URL": "memory://"}
                measurer = start(args, child_env, stdout=subprocess.PIPE)  # stderr: progress
                try:
                    line = read_line(measurer, timeout=budget.remaining(), what="bench.settle")
                finally:
                    stop(measurer)
                if worker.poll() is not None:
                    tail = worker_log.read_text(errors="replace")[-2000:]
                    raise BenchError(f"the Celery worker exited ({worker.returncode}):\n{tail}")
            finally:
                stop(worker)
    finally:
        stop(stripe)
    result: dict[str, Any] = json.loads(line)
    if "error" in result:
        raise BenchError(result["error"])
    return result


# --- the table -------------------------------------------------------------------------------


TARIFFS = {
    False: "the CPO's REGULAR tariffs, shown and billed alike (CDRs match the price shown)",
    True: "AD_HOC_PAYMENT shown, REGULAR billed (BENCH_SETTLE_AD_HOC: every CDR flagged)",
}


def _figures(database: str, r: dict[str, Any]) -> list[Figure]:
    cpu = r["cpu"]
    ours = cpu["ours_ms"]
    median, p95 = statistics.median(ours), quantile(ours, 0.95)
    n = len(ours)

    def med(key: str) -> str:
        values = cpu[key]
        return f"median {statistics.median(values):.2f}, p95 {quantile(values, 0.95):.2f} ms"

    tp = r["throughput"]
    rate = tp["cdrs"] / tp["seconds"]
    return [
        Figure("settle", "database, broker, Stripe", None, "", note=f"{database}; {REDIS_URL}; "
               f"localstripe (config.fakestripe); tariffs: {TARIFFS[AD_HOC]}; setup: {r['setup']}"),
        Figure("settle", f"our CPU per reconciled CDR, median ({n} CDRs, one at a time)",
               median, "ms", f"< {TARGET_CPU_MS:.0f} ms", median < TARGET_CPU_MS,
               f"POST /cdrs through the WSGI handler + settle_cdr, minus the gateway calls; "
               f"{WARMUP} warm-up CDRs not counted; {cpu['cases']}; load average at the start "
               f"{cpu['load_before']:.1f}, at the end {cpu['load_after']:.1f}"),
        Figure("settle", "  p95", p95, "ms", f"< {TARGET_CPU_MS:.0f} ms", p95 < TARGET_CPU_MS,
               f"min {min(ours):.2f}, max {max(ours):.2f} ms"),
        Figure("settle", "  CDR POST handling (record_cdr), CPU", statistics.median(
               cpu["post_ms"]), "ms", note=med("post_ms")),
        Figure("settle", "  settle_cdr without the gateway call (plan + record), CPU",
               statistics.median(cpu["settle_ms"]), "ms", note=med("settle_ms")),
        Figure("settle", "  wall time of the same, Stripe excluded (incl. PostgreSQL)",
               statistics.median(cpu["wall_ms"]), "ms", note=med("wall_ms")),
        Figure("settle", "  Stripe capture call, wall (localstripe's answer)",
               statistics.median(cpu["gateway_wall_ms"]), "ms",
               note=med("gateway_wall_ms") + "; our process's CPU in it (stripe client): "
               + med("gateway_cpu_ms") + "; localstripe saves its whole state after every "
               "change, so its answers slow down as the run's Stripe objects pile up"),
        Figure("settle", f"throughput, one worker (-c 1), {tp['cdrs']} CDRs over HTTP", rate,
               "CDRs/s", note=f"first POST to last settled_at {tp['seconds']:.2f} s; "
               f"{POSTERS} CPO threads POSTing, all answered after {tp['posted_s']:.2f} s "
               f"(POST median {tp['post_median_ms']:.0f} ms, p95 {tp['post_p95_ms']:.0f} ms); "
               f"{tp['captured']} captured, {tp['cases']}; load average at the "
               f"start {tp['load_before']:.1f}, at the end {tp['load_after']:.1f}"),
        Figure("settle", "  worker CPU per settled CDR (Celery and stripe client included)",
               tp["worker_cpu_ms"], "ms",
               note="pool parent and child, utime+stime from /proc over the run"),
    ]  # fmt: skip


# --- the measuring process -------------------------------------------------------------------


class _Meter:
    """Wraps the payments.gateway calls: the CPU this thread spent in them, and their wall time."""

    def __init__(self) -> None:
        self.cpu = self.wall = 0.0

    def install(self) -> None:
        from payments import gateway

        for name in GATEWAY_CALLS:
            if hasattr(gateway, name):
                setattr(gateway, name, self._timed(getattr(gateway, name)))

    def _timed(self, call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.cpu += time.thread_time() - cpu
                self.wall += time.perf_counter() - wall

        return timed


class _Drivers(Driver):
    """bench.start's drivers, waiting for the session through the ORM (no worker handle here)."""

    def _wait_for_session(self, public_id: str, evse_id: str) -> None:
        from django.db import close_old_connections

        from payments.models import Checkout

        def charging() -> bool:
            status, reason = Checkout.objects.values_list("status", "failure_reason").get(
                public_id=public_id
            )
            if status in ("failed", "expired"):
                raise BenchError(f"checkout at {evse_id} {status}: {reason}")
            return status == "charging"

        try:
            wait_until(charging, timeout=self.budget.remaining(STARTED_WITHIN), what=evse_id)
        finally:
            close_old_connections()


def measure(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.settle measure")
    parser.add_argument("--our-url", required=True)
    parser.add_argument("--stripe-url", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--worker-pid", type=int, required=True)
    parser.add_argument("--budget", type=float, required=True)
    parser.add_argument("--cdrs", type=int, default=CPU_CDRS)
    parser.add_argument("--throughput-cdrs", type=int, default=THROUGHPUT_CDRS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from cpo_simulator import CpoSimulator

    budget = Budget(args.budget, "settle measure")
    sim = CpoSimulator(
        versions=("2.2.1",),
        country_code="NL",
        party_id="STL",
        location_count=LOCATIONS,
        ad_hoc_tariffs=AD_HOC,
        time_scale=60,  # a minute of real time is an hour of charging
        update_interval=60,
        cdr_fault="late",  # held until we POST them
    ).start()
    try:
        held, setup = _prepare(sim, args, budget)
        cpu = _cpu_part(sim, held[: WARMUP + args.cdrs])
        throughput = _throughput_part(sim, held[WARMUP + args.cdrs :], args.worker_pid, budget)
        result: dict[str, Any] = {"setup": setup, "cpu": cpu, "throughput": throughput}
    except BenchError as exc:
        result = {"error": str(exc)}
    finally:
        sim.stop()
    print(json.dumps(result), flush=True)


def _prepare(
    sim: Any, args: argparse.Namespace, budget: Budget
) -> tuple[list[dict[str, Any]], str]:
    """Register the CPO, pull its stations, make the checkouts, end their sessions; returns the
    CDRs the simulator holds, in checkout order."""
    from ocpi_peer import sync
    from ocpi_peer.registration import invite_partner
    from payments.models import ChargingSession, Checkout

    started = time.monotonic()
    partner, token_a = invite_partner(name="Settling CPO")
    answer = sim.register_with(f"{args.our_url}/ocpi/versions", token_a)
    if answer.status_code != 200 or answer.json().get("status_code") != 1000:
        raise BenchError(f"the CPO could not register: {answer.status_code} {answer.text[:300]}")
    for module in ("locations", "tariffs"):
        sync.pull(partner_id=partner.pk, module=module, full=True)
    needed = WARMUP + args.cdrs + args.throughput_cdrs
    evses = _available_evses(args.database_url)
    if len(evses) < needed:
        raise BenchError(f"only {len(evses)} EVSEs available, {needed} needed")
    say(f"settle: {needed} checkouts, {DRIVERS} drivers at a time, each until it charges")
    no_worker: Any = None  # _Drivers never looks at the worker
    drivers = _Drivers(
        args.our_url, args.stripe_url, args.database_url, budget, no_worker, no_worker
    )
    public_ids = drivers.concurrently(evses[:needed], DRIVERS)
    charged = time.monotonic()
    say(f"settle: {len(public_ids)} charging after {charged - started:.0f} s; ending the sessions")
    session_ids = dict(
        ChargingSession.objects.filter(checkout__public_id__in=public_ids).values_list(
            "checkout__public_id", "session_id"
        )
    )
    if len(session_ids) != needed:
        raise BenchError(f"{len(session_ids)} of {needed} checkouts have a session")
    with ThreadPoolExecutor(ENDERS) as pool:
        list(pool.map(lambda sid: sim.end_session(sid, timeout=60), session_ids.values()))

    def all_held() -> bool:
        with sim.lock:
            return len(sim.cdr_book.held) >= needed

    wait_until(all_held, timeout=budget.remaining(60), what="the simulator's CDRs")
    finished = Checkout.objects.filter(public_id__in=public_ids, status="finished")
    wait_until(
        lambda: finished.count() == needed,
        timeout=budget.remaining(60),
        what="every checkout finished",
    )
    with sim.lock:
        held = [cdr.body for cdr in sim.cdr_book.held]
    order = {
        ref: n
        for n, ref in enumerate(
            Checkout.objects.filter(public_id__in=public_ids)
            .order_by("pk")
            .values_list("authorization_reference", flat=True)
        )
    }
    held.sort(key=lambda body: order[body["authorization_reference"]])
    setup = (
        f"{needed} checkouts made in {charged - started:.0f} s, sessions ended and CDRs held "
        f"after {time.monotonic() - started:.0f} s"
    )
    say(f"settle: {setup}")
    return held, setup


def _headers(sim: Any) -> dict[str, str]:
    """What the simulator sends with a CDR POST (T-15, T-16), with its token."""
    from django.conf import settings

    token = sim.emsp_token
    if sim.base64_for("2.2.1"):
        token = base64.b64encode(token.encode()).decode()
    return {
        "Authorization": f"Token {token}",
        "X-Request-ID": str(uuid4()),
        "X-Correlation-ID": str(uuid4()),
        "OCPI-from-country-code": sim.country_code,
        "OCPI-from-party-id": sim.party_id,
        "OCPI-to-country-code": settings.OCPI_COUNTRY_CODE,
        "OCPI-to-party-id": settings.OCPI_PARTY_ID,
    }


def _answered_into(answered: list[str]) -> Callable[..., None]:
    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        answered.append(status)

    return start_response


def _cpu_part(sim: Any, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    import simplejson
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    from payments import tasks
    from payments.models import Cdr, Checkout

    meter = _Meter()
    meter.install()
    handler, factory = WSGIHandler(), RequestFactory()
    path = urlsplit(sim.emsp_endpoints["cdrs"]).path
    keys = ("post_ms", "settle_ms", "ours_ms", "wall_ms", "gateway_cpu_ms", "gateway_wall_ms")
    samples: dict[str, list[float]] = {key: [] for key in keys}
    load_before = os.getloadavg()[0]
    say(f"settle: {len(bodies)} CDRs reconciled one at a time in this process")
    for number, body in enumerate(bodies):
        payload = simplejson.dumps(body, use_decimal=True)
        environ = factory.post(
            path, data=payload, content_type="application/json", headers=_headers(sim)
        ).environ
        answered: list[str] = []
        start_response = _answered_into(answered)
        cpu, wall = time.thread_time(), time.perf_counter()
        response = handler(environ, start_response)
        content = b"".join(response)
        response.close()
        post_cpu, post_wall = time.thread_time() - cpu, time.perf_counter() - wall
        if not answered or not answered[0].startswith("201"):
            raise BenchError(f"CDR POST answered {answered}: {content[:300]!r}")
        cdr_pk = Cdr.objects.values_list("pk", flat=True).get(
            country_code=body["country_code"], party_id=body["party_id"], cdr_id=body["id"]
        )
        meter.cpu = meter.wall = 0.0
        cpu, wall = time.thread_time(), time.perf_counter()
        outcome = tasks.settle_cdr(cdr_pk)
        settle_cpu, settle_wall = time.thread_time() - cpu, time.perf_counter() - wall
        if not str(outcome).startswith("captured"):
            raise BenchError(f"settle_cdr({cdr_pk}) returned {outcome!r}")
        if number < WARMUP:
            continue
        samples["post_ms"].append(post_cpu * 1000)
        samples["settle_ms"].append((settle_cpu - meter.cpu) * 1000)
        samples["ours_ms"].append((post_cpu + settle_cpu - meter.cpu) * 1000)
        samples["wall_ms"].append((post_wall + settle_wall - meter.wall) * 1000)
        samples["gateway_cpu_ms"].append(meter.cpu * 1000)
        samples["gateway_wall_ms"].append(meter.wall * 1000)
    refs = [body["authorization_reference"] for body in bodies[WARMUP:]]
    cases = _cases(Checkout.objects.filter(authorization_reference__in=refs))
    load_after = os.getloadavg()[0]
    return {**samples, "load_before": load_before, "load_after": load_after, "cases": cases}


def _cases(checkouts: Any) -> str:
    """The cases opened for these checkouts, by kind, with one summary of each kind."""
    from payments.models import Case

    found: dict[str, list[str]] = {}
    for kind, summary in Case.objects.filter(checkout__in=checkouts).values_list("kind", "summary"):
        found.setdefault(kind, []).append(summary)
    if not found:
        return "no cases opened"
    return "cases opened: " + "; ".join(
        f"{len(summaries)} {kind} (e.g. {summaries[0]!r})" for kind, summaries in found.items()
    )


def _throughput_part(
    sim: Any, bodies: list[dict[str, Any]], worker_pid: int, budget: Budget
) -> dict[str, Any]:
    from django.db.models import Max

    from payments.models import Checkout, LedgerEntry

    refs = [body["authorization_reference"] for body in bodies]
    checkouts = Checkout.objects.filter(authorization_reference__in=refs)
    say(f"settle: {len(bodies)} CDRs POSTed over HTTP by {POSTERS} CPO threads, one worker")
    load_before = os.getloadavg()[0]
    cpu_before = tree_cpu_seconds(worker_pid)
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def post(body: dict[str, Any]) -> None:
        began = time.perf_counter()
        answer = sim.call_us("POST", "cdrs", json=body)
        with lock:
            latencies.append((time.perf_counter() - began) * 1000)
            if answer.status_code != 201:
                failures.append(f"{answer.status_code} {answer.text[:200]}")

    first = time.time()
    with ThreadPoolExecutor(POSTERS) as pool:
        list(pool.map(post, bodies))
    posted = time.time() - first
    if failures:
        raise BenchError(f"{len(failures)} CDR POSTs failed, e.g. {failures[0]}")
    wait_until(
        lambda: checkouts.filter(status="settled").count() == len(bodies),
        timeout=budget.remaining(300),
        what="every checkout settled",
    )
    worker_cpu = tree_cpu_seconds(worker_pid) - cpu_before
    last = checkouts.aggregate(last=Max("settled_at"))["last"].timestamp()
    return {
        "cdrs": len(bodies),
        "seconds": last - first,
        "posted_s": posted,
        "post_median_ms": statistics.median(latencies),
        "post_p95_ms": quantile(latencies, 0.95),
        "captured": LedgerEntry.objects.filter(
            checkout__in=checkouts, kind=LedgerEntry.Kind.CAPTURE
        ).count(),
        "cases": _cases(checkouts),
        "worker_cpu_ms": worker_cpu * 1000 / len(bodies),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


if __name__ == "__main__":
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command != "measure":
        sys.exit("usage: python -m bench.settle measure --our-url … (run by `python -m bench`)")
    measure(rest)
