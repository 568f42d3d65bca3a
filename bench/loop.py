"""`python -m bench loop [--drivers 20,50,100]`: the whole driver loop under load, N drivers at a
time, and afterwards the books checked against the fake Stripe.

Everything runs on 127.0.0.1, each in its own process: two gunicorn instances of our app
(gthread, 1 worker × 4 threads each; the drivers alternate between them, the CPO calls the
first, whose URL both publish), two Celery workers (`-c 1` each) on Redis (database REDIS_DB,
which must be empty, flushed afterwards), PostgreSQL (scratch database `chargepay_bench_loop`),
the fake Stripe (`python -m config.fakestripe`, i.e. localstripe) and the CPO simulator
(`manage.py simulate_cpo`, OCPI 2.2.1, LOCATIONS locations = 1,000 EVSEs, sessions at 60×
real time with an update every UPDATE_INTERVAL s, the CDR POSTed as soon as a session ends).
We register with it and pull its locations and tariffs.

A driver, as the page's script and Stripe.js do it over HTTP, round after round on an EVSE
taken from a shared queue (and put back at its end): POST /api/v1/checkouts; confirmCardSetup
at the fake Stripe with card 4242 4242 4242 4242; POST /pay (we confirm the hold server-side);
polls GET /api/v1/checkouts/<id> until it charges; charges CHARGE_SECONDS, polling every
POLL_EVERY s as the page does; POST /stop; polls until the checkout is settled (the STOP
sent by a worker, the session ended, the CDR POSTed by the CPO, the capture made by a worker);
opens the receipt page. Each size runs for DURATION s of new rounds, then the rounds under way
finish. The timings of the asynchronous steps come from our own records of each checkout
(`authorized_at`, the START_SESSION answer, `stop_requested_at`, the session's last push, the
CDR's `received_at`, `settled_at`), those the driver waits for from its own clock.

Checks after each size, failing the benchmark (exit status 1) when one fails: every checkout
made is settled; at the fake Stripe each one's PaymentIntent was captured once, for what our
ledger booked, and nothing was refunded; the ledger balances per checkout (one hold, captured
+ released = held, one payable) and in total.
"""

from __future__ import annotations

import json
import os
import queue
import statistics
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.start import CARD, PUBLISHABLE_KEY, _available_evses, _fake_stripe, _query
from bench.support import (
    MANAGE,
    PYTHON,
    BenchError,
    Budget,
    Figure,
    app_env,
    gunicorn,
    quantile,
    read_line,
    redis_database,
    run_json,
    say,
    scratch_database,
    start,
    stop,
    wait_until,
)

SIZES = (20, 50, 100)
REDIS_DB = 11
LOCATIONS = 500  # × 2 EVSEs: 1,000 EVSEs registered with us
DURATION = 60.0  # seconds in which drivers begin new rounds, per size
DRAIN = 240.0  # seconds the rounds under way then have to finish
CHARGE_SECONDS = 5.0
POLL_EVERY = 2.0  # as the page does
# gunicorn closes a keep-alive connection after 2 s idle; a client reusing one just then meets a
# reset. Browsers retry those; here connections idle longer than this are not reused.
KEEPALIVE = httpx.Limits(keepalive_expiry=1.0)
STEP_TIMEOUT = 180.0  # seconds a driver waits for the start, or for the settlement
UPDATE_INTERVAL = 10.0
SETTLE_WAIT = 180.0  # seconds the checkouts of failed rounds have to end before the checks
ENDED = ("settled", "failed", "expired")
STEPS = (
    ("checkout", "POST /api/v1/checkouts"),
    ("card", "confirmCardSetup at the fake Stripe"),
    ("pay", "POST /pay (hold placed server-side)"),
    ("start", "hold → START_SESSION accepted by the CPO (records)"),
    ("charging seen", "/pay answered → the driver sees it charging (polls every 2 s)"),
    ("poll", "GET /api/v1/checkouts/<id>, every poll"),
    ("stop", "POST /stop"),
    ("stopped", "stop pressed → the session's last push (STOP via a worker, the CPO's COMPLETED)"),
    ("cdr", "session ended → CDR received (records)"),
    ("capture", "CDR received → captured and settled (worker, fake Stripe; records)"),
    ("settled seen", "stop answered → the driver sees it settled"),
    ("receipt", "GET the receipt page"),
    ("round", "a whole round, checkout to receipt"),
)


class CheckFailed(BenchError):
    """A correctness check failed; the figures measured so far go with it."""

    def __init__(self, message: str, figures: list[Figure]) -> None:
        super().__init__(message)
        self.figures = figures


def run(sizes: Sequence[int] = SIZES, duration: float = DURATION) -> list[Figure]:
    budget = Budget(300 + len(sizes) * (duration + DRAIN + 60), "loop")
    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_database(REDIS_DB))
        db = stack.enter_context(
            scratch_database(require_postgres=True, name="chargepay_bench_loop")
        )
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chargepay-loop-")))
        say(f"loop: database {db.description}; broker {redis_url}")
        world = stack.enter_context(_world(budget, db.url, redis_url, scratch))
        figures = [
            Figure("loop", "setup", None, "", note=f"{db.description}; {redis_url}; "
                   f"2 gunicorn (gthread 1×4), 2 Celery workers (-c 1), localstripe, "
                   f"simulate_cpo with {world.evse_count} EVSEs; {CHARGE_SECONDS:.0f} s of "
                   f"charging per round; {duration:.0f} s of new rounds per size"),
        ]  # fmt: skip
        failures: list[str] = []
        for size in sizes:
            load_before = os.getloadavg()
            rounds = _drive(world, size, duration, budget)
            load_after = os.getloadavg()
            problems = _check(world, rounds)
            figures += _figures(world, size, rounds, duration, problems, load_before, load_after)
            failures += [f"{size} drivers: {problem}" for problem in problems]
            for process, name in world.processes:
                if process.poll() is not None:
                    failures.append(f"{name} exited ({process.returncode})")
            if failures:
                break
        if failures:
            raise CheckFailed("; ".join(failures[:5]), figures)
        return figures


# --- the world -------------------------------------------------------------------------------


@dataclass
class World:
    database_url: str
    stripe_url: str
    our_urls: list[str]
    evses: queue.Queue[str]
    evse_count: int
    processes: list[tuple[Any, str]]


@contextmanager
def _world(budget: Budget, database_url: str, redis_url: str, scratch: Path) -> Iterator[World]:
    """Every process, stopped on the way out (also on Ctrl-C: KeyboardInterrupt unwinds here)."""
    with ExitStack() as stack:
        stripe, stripe_url = _fake_stripe(scratch)
        stack.callback(stop, stripe)
        env = app_env(database_url) | {
            "CELERY_BROKER_URL": redis_url,
            "STRIPE_API_BASE": stripe_url,
            "STRIPE_JS_URL": f"{stripe_url}/js.stripe.com/v3/",
            # every driver comes from 127.0.0.1 here, and EVSEs are used round after round
            "CHECKOUT_RATE_LIMIT": "1000000/1m",
            "CHECKOUT_RATE_LIMIT_PER_EVSE": "1000000/1m",
            "TZ": "UTC",
        }
        sim_args = [
            PYTHON, MANAGE, "simulate_cpo",
            "--host", "127.0.0.1",
            "--port", "0",
            "--locations", str(LOCATIONS),
            "--page-size", "1000",
            "--party-id", "LOP",
            "--country-code", "NL",
            "--time-scale", "60",
            "--update-interval", str(UPDATE_INTERVAL),
        ]  # fmt: skip
        with (scratch / "simulate_cpo.log").open("wb") as log:
            sim = start(sim_args, env, stdout=subprocess.PIPE, stderr=log)
        stack.callback(stop, sim)
        cpo = json.loads(read_line(sim, timeout=60, what="simulate_cpo"))
        first = stack.enter_context(gunicorn(env, workers=1, worker_class="gthread", threads=4))
        second = stack.enter_context(
            gunicorn(env, workers=1, worker_class="gthread", threads=4, public_url=first)
        )
        env = {**env, "PUBLIC_BASE_URL": first}
        processes: list[tuple[Any, str]] = [(stripe, "the fake Stripe"), (sim, "simulate_cpo")]
        for number in (1, 2):
            log_path = scratch / f"celery{number}.log"
            args = [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", "warning", "-c", "1"]
            args += ["-n", f"loop{number}@%h"]
            with log_path.open("wb") as log:
                worker = start(args, env, stdout=log, stderr=subprocess.STDOUT)
            stack.callback(stop, worker)
            processes.append((worker, f"Celery worker {number}"))
        partner = run_json(
            [PYTHON, MANAGE, "ocpi_register", "--versions-url", cpo["versions_url"]],
            {**env, "OCPI_TOKEN_A": cpo["token_a"]},
            timeout=budget.remaining(60),
            what="ocpi_register",
        )
        pulled = run_json(
            [PYTHON, MANAGE, "ocpi_sync", "--partner", str(partner["partner_id"])],
            env,
            timeout=budget.remaining(300),
            what="ocpi_sync",
        )
        say(f"loop: registered with the CPO and pulled {json.dumps(pulled)}")
        evses: queue.Queue[str] = queue.Queue()
        available = _available_evses(database_url)
        for evse in available:
            evses.put(evse)
        yield World(database_url, stripe_url, [first, second], evses, len(available), processes)


# --- the drivers -----------------------------------------------------------------------------


@dataclass
class Round:
    public_id: str = ""
    began: float = 0.0
    ended: float | None = None
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    error: str = ""


class _Failed(Exception):
    pass


def _drive(world: World, size: int, duration: float, budget: Budget) -> list[Round]:
    say(f"loop: {size} drivers for {duration:.0f} s")
    rounds: list[Round] = []
    lock = threading.Lock()
    until = time.monotonic() + duration

    def driver(number: int) -> None:
        ours = httpx.Client(
            base_url=world.our_urls[number % 2], timeout=STEP_TIMEOUT, limits=KEEPALIVE
        )
        stripe = httpx.Client(base_url=world.stripe_url, timeout=STEP_TIMEOUT, limits=KEEPALIVE)
        time.sleep(number * min(0.05, 5 / size))  # not all in the same millisecond
        try:
            while time.monotonic() < until:
                evse = world.evses.get(timeout=30)
                one = Round(began=time.monotonic())
                with lock:
                    rounds.append(one)
                try:
                    _round(ours, stripe, evse, one)
                except (_Failed, httpx.HTTPError, KeyError, ValueError) as exc:
                    one.error = f"{type(exc).__name__}: {exc}"[:300]
                    _give_up(ours, one)
                finally:
                    world.evses.put(evse)
        finally:
            ours.close()
            stripe.close()

    threads = [threading.Thread(target=driver, args=(n,), daemon=True) for n in range(size)]
    for thread in threads:
        thread.start()
    deadline = until + DRAIN
    # Short joins: a signal may be delivered to any thread, and only the main thread's next
    # bytecode runs the handler (Ctrl-C, SIGTERM), which then unwinds and stops every process.
    while threads:
        if time.monotonic() > deadline:
            raise BenchError(f"loop: {size} drivers: rounds still under way {DRAIN:.0f} s after")
        budget.remaining()
        threads[0].join(timeout=0.5)
        threads = [thread for thread in threads if thread.is_alive()]
    return rounds


def _give_up(ours: httpx.Client, one: Round) -> None:
    """A driver whose round went wrong presses stop (a cancel before the start), as a driver
    would, so that the checkout still ends and its hold is settled or released."""
    if one.public_id:
        with suppress(httpx.HTTPError):
            ours.post(f"/api/v1/checkouts/{one.public_id}/stop")
    time.sleep(1)


def _timed(one: Round, step: str, call: Any) -> Any:
    began = time.perf_counter()
    result = call()
    one.timings[step].append((time.perf_counter() - began) * 1000)
    return result


def _expect(answer: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if answer.status_code != status:
        raise _Failed(f"{what}: {answer.status_code} {answer.text[:200]}")
    body: dict[str, Any] = answer.json()
    return body


def _round(ours: httpx.Client, stripe: httpx.Client, evse: str, one: Round) -> None:
    created = _expect(
        _timed(one, "checkout", lambda: ours.post(
            "/api/v1/checkouts", json={"evse_id": evse, "connector_id": "1"})),
        201, f"checkout at {evse}",
    )  # fmt: skip
    one.public_id = public_id = created["id"]
    secret = created["setup_client_secret"]
    card = {
        "key": PUBLISHABLE_KEY,
        "use_stripe_sdk": True,
        "client_secret": secret,
        "payment_method_data": {
            "type": "card",
            "card": {"number": CARD, "exp_month": "12", "exp_year": "2030", "cvc": "123"},
            "billing_details": {"address": {"postal_code": "10115"}},
        },
    }
    setup = _expect(
        _timed(one, "card", lambda: stripe.post(
            f"/v1/setup_intents/{secret.split('_secret_')[0]}/confirm", content=json.dumps(card))),
        200, "confirmCardSetup",
    )  # fmt: skip
    if setup.get("status") != "succeeded":
        raise _Failed(f"confirmCardSetup: {json.dumps(setup)[:200]}")
    path = f"/api/v1/checkouts/{public_id}"
    _expect(
        _timed(one, "pay", lambda: ours.post(
            f"{path}/pay", json={"payment_method": setup["payment_method"]})),
        200, "pay",
    )  # fmt: skip
    paid = time.perf_counter()
    _poll_until(ours, path, one, "charging")
    one.timings["charging seen"].append((time.perf_counter() - paid) * 1000)
    charging_until = time.perf_counter() + CHARGE_SECONDS
    while time.perf_counter() < charging_until:
        time.sleep(POLL_EVERY)
        _poll(ours, path, one)
    _expect(_timed(one, "stop", lambda: ours.post(f"{path}/stop")), 202, "stop")
    stopped = time.perf_counter()
    body = _poll_until(ours, path, one, "settled")
    one.timings["settled seen"].append((time.perf_counter() - stopped) * 1000)
    receipt = _timed(one, "receipt", lambda: ours.get(body["receipt_path"]))
    if receipt.status_code != 200 or b"</html>" not in receipt.content:
        raise _Failed(f"receipt: {receipt.status_code}")
    one.ended = time.monotonic()
    one.timings["round"].append((one.ended - one.began) * 1000)


def _poll(ours: httpx.Client, path: str, one: Round) -> dict[str, Any]:
    return _expect(_timed(one, "poll", lambda: ours.get(path)), 200, "poll")


def _poll_until(ours: httpx.Client, path: str, one: Round, status: str) -> dict[str, Any]:
    deadline = time.perf_counter() + STEP_TIMEOUT
    while True:
        body = _poll(ours, path, one)
        if body["status"] == status:
            return body
        if body["status"] in ("failed", "expired"):
            raise _Failed(f"checkout {body['status']}: {body.get('failure_reason')}")
        if time.perf_counter() > deadline:
            raise _Failed(f"not {status} within {STEP_TIMEOUT:.0f} s (still {body['status']})")
        time.sleep(POLL_EVERY)


# --- the checks ------------------------------------------------------------------------------


def _records(world: World, public_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each checkout's state, timestamps and ledger sums by kind."""
    rows = _query(
        world.database_url,
        """SELECT c.public_id, c.status, c.stripe_payment_intent, c.authorized_at,
                  c.stop_requested_at,
                  (SELECT max(s.pushed_at) FROM payments_chargingsession s
                    WHERE s.checkout_id = c.id),
                  c.settled_at,
                  (SELECT min(r.responded_at) FROM ocpi_peer_commandrequest r
                    WHERE r.checkout_id = c.id AND r.command = 'START_SESSION'),
                  (SELECT min(d.received_at) FROM payments_cdr d WHERE d.checkout_id = c.id)
           FROM payments_checkout c WHERE c.public_id = ANY(%s)""",
        (public_ids,),
    )
    found: dict[str, dict[str, Any]] = {}
    keys = ("status", "intent", "authorized", "stop", "ended", "settled", "started", "cdr")
    for public_id, *values in rows:
        found[public_id] = dict(zip(keys, values, strict=True)) | {"ledger": defaultdict(list)}
    for public_id, kind, amount in _query(
        world.database_url,
        """SELECT c.public_id, l.kind, l.amount_minor FROM payments_ledgerentry l
           JOIN payments_checkout c ON c.id = l.checkout_id WHERE c.public_id = ANY(%s)""",
        (public_ids,),
    ):
        found[public_id]["ledger"][kind].append(amount)
    return found


def _check(world: World, rounds: list[Round]) -> list[str]:
    """What is wrong with the books after these rounds (nothing, we hope): a round that went
    to its end must have settled its checkout; one that failed (it is counted as an error) must
    still have ended it, the hold released or settled."""
    public_ids = [r.public_id for r in rounds if r.public_id]
    if public_ids:
        with suppress(BenchError):  # what has not ended by then is reported below
            wait_until(lambda: _ended(world, public_ids), timeout=SETTLE_WAIT, what="ended")
    records = _records(world, public_ids)
    problems: list[str] = []
    completed = {r.public_id for r in rounds if r.public_id and not r.error}
    unsettled = [p for p in completed if records[p]["status"] != "settled"]
    if unsettled:
        states = sorted({records[p]["status"] for p in unsettled})
        problems.append(f"{len(unsettled)} checkouts not settled ({', '.join(states)})")
    open_ = [p for p in public_ids if records[p]["status"] not in ENDED]
    if open_:
        states = sorted({records[p]["status"] for p in open_})
        problems.append(f"{len(open_)} checkouts never ended ({', '.join(states)})")
    held = captured = released = stripe_captured = 0
    unbalanced: list[str] = []
    with httpx.Client(
        base_url=world.stripe_url, timeout=30, headers={"Authorization": "Bearer sk_test_bench"}
    ) as stripe:
        for public_id in public_ids:
            record = records[public_id]
            ledger = record["ledger"]
            hold, capture = ledger.get("hold", []), ledger.get("capture", [])
            release, payable = ledger.get("release", []), ledger.get("payable", [])
            held, captured, released = (
                held + sum(hold),
                captured + sum(capture),
                released + sum(release),
            )
            if ledger.get("refund") or ledger.get("failed_refund"):
                unbalanced.append(f"{public_id} refunded")
            if record["status"] != "settled":
                if hold and (capture or sum(release) != hold[0]):
                    unbalanced.append(f"{public_id} {record['status']}: {dict(ledger)}")
                continue
            if len(hold) != 1 or len(capture) > 1 or len(release) > 1 or len(payable) != 1:
                unbalanced.append(f"{public_id}: {dict(ledger)}")
            elif hold[0] != sum(capture) + sum(release):
                unbalanced.append(f"{public_id}: held {hold[0]} ≠ {capture} + {release}")
            taken, wrong = _at_stripe(stripe, record["intent"], hold, sum(capture), sum(release))
            stripe_captured += taken
            if wrong:
                unbalanced.append(f"{public_id}: {wrong}")
    if unbalanced:
        problems.append(f"{len(unbalanced)} checkouts' books wrong, e.g. {unbalanced[0]}")
    if held != captured + released:
        problems.append(f"ledger total: held {held} ≠ captured {captured} + released {released}")
    if stripe_captured != captured:
        problems.append(f"Stripe captured {stripe_captured} in total, our ledger {captured}")
    return problems


def _ended(world: World, public_ids: list[str]) -> bool:
    rows = _query(
        world.database_url,
        "SELECT count(*) FROM payments_checkout WHERE public_id = ANY(%s) AND status <> ALL(%s)",
        (public_ids, list(ENDED)),
    )
    return bool(rows[0][0] == 0)


def _at_stripe(
    stripe: httpx.Client, intent_id: str, hold: list[int], capture: int, release: int
) -> tuple[int, str]:
    """What the fake Stripe took on this PaymentIntent, and what is wrong there. localstripe
    books the uncaptured rest of a partial capture as a refund of the charge: so the charge
    must be captured once for the hold, with at most one refund, of exactly what we released
    (any other refund would be money given back that nobody asked for)."""
    intent = stripe.get(f"/v1/payment_intents/{intent_id}").json()
    charge = intent.get("latest_charge")
    if isinstance(charge, str):
        charge = stripe.get(f"/v1/charges/{charge}").json()
    if not charge:
        return 0, f"no charge at Stripe for {intent_id}"
    refunds = charge.get("refunds", {}).get("data", [])
    refunded = sum(refund["amount"] for refund in refunds)
    taken = charge["amount"] - refunded if charge.get("captured") else 0
    if taken != capture:
        return taken, f"Stripe took {taken}, we booked {capture}"
    if capture and (charge["amount"] != hold[0] or len(refunds) > 1 or refunded != release):
        return taken, f"held {charge['amount']} at Stripe, refunds {refunds}, released {release}"
    return taken, ""


# --- the table -------------------------------------------------------------------------------


def _ms(later: Any, earlier: Any) -> float | None:
    if later is None or earlier is None:
        return None
    return float((later - earlier).total_seconds() * 1000)


def _figures(
    world: World,
    size: int,
    rounds: list[Round],
    duration: float,
    problems: list[str],
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> list[Figure]:
    done = [r for r in rounds if r.ended is not None and not r.error]
    errors = [r.error for r in rounds if r.error]
    timings: dict[str, list[float]] = defaultdict(list)
    for one in rounds:
        for step, values in one.timings.items():
            timings[step] += values
    records = _records(world, [r.public_id for r in done])
    for record in records.values():
        for step, later, earlier in (
            ("start", "started", "authorized"),
            ("stopped", "ended", "stop"),
            ("cdr", "cdr", "ended"),
            ("capture", "settled", "cdr"),
        ):
            value = _ms(record[later], record[earlier])
            if value is not None:
                timings[step].append(value)
    # Completed per minute: rounds finished from the first round's start to the last's end.
    span = (max(r.ended for r in done if r.ended) - min(r.began for r in rounds)) if done else 0
    rate = len(done) / span * 60 if span else 0.0
    label = f"{size} drivers"
    figures = [
        Figure("loop", f"{label}: checkouts completed per minute", rate, "/min",
               note=f"{len(done)} rounds done in {span:.0f} s ({duration:.0f} s of new rounds "
               f"+ the last ones finishing); load average {load_before[0]:.1f} → "
               f"{load_after[0]:.1f} on {os.cpu_count()} CPUs"),
        Figure("loop", f"{label}: errors", len(errors), "", "0", not errors,
               "; ".join(sorted(set(errors))[:3])),
        Figure("loop", f"{label}: books (settled, Stripe, ledger)", len(problems), "problems",
               "0", not problems, "; ".join(problems) or "every checkout settled, captured "
               "once at Stripe for what the ledger booked, no refunds, ledger balanced"),
    ]  # fmt: skip
    for step, described in STEPS:
        values = timings.get(step)
        if not values:
            continue
        figures.append(
            Figure("loop", f"{label}: {step} p50", statistics.median(values), "ms",
                   note=f"p95 {quantile(values, 0.95):,.0f} ms, max {max(values):,.0f} ms, "
                   f"{len(values)} samples; {described}")
        )  # fmt: skip
    return figures
