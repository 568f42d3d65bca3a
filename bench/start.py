"""`python -m bench start`: from the hold being confirmed to START_SESSION arriving at the CPO.

Everything runs as in production, each in its own process on 127.0.0.1: our app under gunicorn
(gthread 2×4) on PostgreSQL, a real Celery worker (`-c 2`, prefork, `-l warning`) on Redis (a
database of its own, REDIS_DB, flushed before and after), the fake Stripe (`python -m
config.fakestripe`), and the CPO simulator (`manage.py simulate_cpo`, OCPI 2.2.1, 120 locations
with AD_HOC_PAYMENT tariffs; sessions in real time with an update a minute, as a CPMS sends
them). We register with the CPO (`ocpi_register`) and pull its locations and tariffs
(`ocpi_sync`); it offers a Tokens receiver, so our token is pushed before each START.

A driver's checkout is what the page's script does: POST /api/v1/checkouts, Stripe.js's
`confirmCardSetup` with card 4242 4242 4242 4242 (the request tests/support/localstripe.py
`confirm_card_setup` makes), POST /pay; then the driver waits until the session has reached us
(status "charging"), so one checkout's follow-up traffic (CommandResult, session, EVSE status)
does not overlap the next one's start. WARMUP checkouts first, not counted (the worker's pool
children import and connect on their first task); then CHECKOUTS one after the other, each on
an EVSE of its own; then CHECKOUTS more with CONCURRENT drivers at a time, on other EVSEs.

Per checkout:
- "hold confirmed" is the checkout's `authorized_at`, set in `payments.services.apply_intent`
  inside the transaction whose commit enqueues `start_charging`;
- "START_SESSION arrived" is the simulator's own log line for the request (`simulate_cpo` logs
  one line per request on stderr with millisecond stamps, once it has built its answer: the
  arrival plus the simulator's handling, well under a millisecond here). The line does not say
  which checkout it is for: each checkout gets the one that falls within its own START call as
  our traffic log has it (from the row's `created_at` − `duration_ms`, when our client started,
  to its `created_at`, when it had the answer). One after the other, exactly one line falls in
  each call; when calls overlap, a line may fall in two and the pairing can swap them.
Where the time goes comes from our own records of the same checkout: the driver token's row
(`DriverToken.last_updated`, the task's first write), the token push (PUT to the CPO's Tokens
module) and the START call in the traffic log, and START_SESSION's `CommandRequest.created_at`.
With BENCH_START_TRACE=1 the worker logs at INFO, and its "received" line splits the first
segment into the broker's part and the worker's.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import statistics
import subprocess
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.support import (
    MANAGE,
    PYTHON,
    BenchError,
    Budget,
    Figure,
    app_env,
    free_port,
    gunicorn,
    quantile,
    read_line,
    run_json,
    say,
    scratch_database,
    start,
    stop,
    wait_until,
)

BUDGET_SECONDS = 480
REDIS_DB = 9
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
LOCATIONS = 120  # 240 EVSEs, of which the simulator shows 212 AVAILABLE
CHECKOUTS, WARMUP, CONCURRENT = 100, 3, 4
TARGET_MEDIAN_MS, TARGET_P95_MS = 150.0, 250.0
CARD = "4242424242424242"
PUBLISHABLE_KEY = "pk_test_bench"
STARTED_WITHIN = 15.0  # seconds a checkout may take from /pay to its session reaching us
SIM_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) simulate_cpo (\w+ \S+) \d{3}")
START_PATH = "POST /ocpi/2.2.1/commands/START_SESSION"
# BENCH_START_TRACE=1: the worker logs at INFO, so its "received" line splits the first segment.
TRACE = os.environ.get("BENCH_START_TRACE", "") not in ("", "0")
CELERY_LINE = re.compile(
    r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}): INFO/MainProcess\] Task (\S+)\["
)
TASK = "payments.tasks.start_charging"


def run(budget_seconds: float = BUDGET_SECONDS) -> list[Figure]:
    budget = Budget(budget_seconds, "start")
    _flush_redis("before")
    try:
        with (
            scratch_database(require_postgres=True, name="chargepay_bench_start") as db,
            tempfile.TemporaryDirectory(prefix="chargepay-bench-start-") as scratch,
        ):
            say(f"start: database {db.description}; broker {REDIS_URL}")
            return _run(budget, db.url, db.description, Path(scratch))
    finally:
        _flush_redis("after")


def _run(budget: Budget, database_url: str, database: str, scratch: Path) -> list[Figure]:
    stripe, stripe_url = _fake_stripe(scratch)
    env = app_env(database_url) | {
        "CELERY_BROKER_URL": REDIS_URL,
        "STRIPE_API_BASE": stripe_url,
        "STRIPE_JS_URL": f"{stripe_url}/js.stripe.com/v3/",
        "CHECKOUT_RATE_LIMIT": "100000/1m",  # every driver comes from 127.0.0.1 here
    }
    sim_log = scratch / "simulate_cpo.log"
    sim, cpo = _simulator(env, sim_log)
    try:
        with gunicorn(env, workers=2, worker_class="gthread", threads=4) as our_url:
            env = {**env, "PUBLIC_BASE_URL": our_url}
            worker_log = scratch / "celery.log"
            worker = _celery_worker(env, worker_log)
            try:
                runs: tuple[list[str], list[str], list[str]] = _checkouts(
                    budget, env, database_url, cpo, our_url, stripe_url, worker, worker_log
                )
            finally:
                stop(worker)
    finally:
        stop(sim)
        stop(stripe)
    records = _records(database_url, [p for run in runs for p in run])
    starts = [when for when, what in _logged(sim_log, SIM_LINE) if what == START_PATH]
    unmatched, shared = _match(records, starts, "start_start", "start_end", "arrived")
    matched = (
        f"{unmatched} of {len(records)} checkouts without a CPO log time within their own "
        f"call, {shared} log times within two calls (only when calls overlap)"
    )
    if TRACE:
        received = [when for when, what in _logged(worker_log, CELERY_LINE) if what == TASK]
        missing, _ = _match(records, received, "authorized", "token_issued", "received")
        matched += f"; {missing} checkouts without a worker log time"
    return _figures(database, records, runs, matched)


def _checkouts(
    budget: Budget,
    env: dict[str, str],
    database_url: str,
    cpo: dict[str, str],
    our_url: str,
    stripe_url: str,
    worker: subprocess.Popen[bytes],
    worker_log: Path,
) -> tuple[list[str], list[str], list[str]]:
    partner = run_json(
        [PYTHON, MANAGE, "ocpi_register", "--versions-url", cpo["versions_url"]],
        {**env, "OCPI_TOKEN_A": cpo["token_a"]},
        timeout=budget.remaining(60),
        what="ocpi_register",
    )
    pulled = run_json(
        [PYTHON, MANAGE, "ocpi_sync", "--partner", str(partner["partner_id"])],
        env,
        timeout=budget.remaining(120),
        what="ocpi_sync",
    )
    say(f"start: registered with the CPO and pulled {json.dumps(pulled)}")
    evses = _available_evses(database_url)
    needed = WARMUP + 2 * CHECKOUTS
    if len(evses) < needed:
        raise BenchError(f"only {len(evses)} EVSEs available, {needed} needed")
    driver = Driver(our_url, stripe_url, database_url, budget, worker, worker_log)
    say(f"start: {WARMUP} warm-up checkouts, then {CHECKOUTS} one after the other")
    warm = [driver.checkout(evse) for evse in evses[:WARMUP]]
    sequential = [driver.checkout(evse) for evse in evses[WARMUP : WARMUP + CHECKOUTS]]
    say(f"start: {CHECKOUTS} more, {CONCURRENT} drivers at a time")
    concurrent = driver.concurrently(evses[WARMUP + CHECKOUTS : needed], CONCURRENT)
    return warm, sequential, concurrent


# --- the processes -----------------------------------------------------------------------------


def _flush_redis(when: str) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_timeout=5)
    try:
        keys = client.dbsize()
        if keys and when == "before":
            say(f"start: Redis database {REDIS_DB} held {keys} keys: flushing them")
        client.flushdb()
    except redis.RedisError as exc:
        raise BenchError(f"Redis on 127.0.0.1:6379: {exc}") from exc
    finally:
        client.close()


def _fake_stripe(scratch: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (scratch / "fakestripe.log").open("wb") as log:
        process = start(
            [PYTHON, "-m", "config.fakestripe", str(port), str(scratch / "stripe")],
            dict(os.environ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def answers() -> bool:
        if process.poll() is not None:
            raise BenchError(f"fake Stripe exited ({process.returncode})")
        try:
            return httpx.get(f"{url}/js.stripe.com/v3/", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(answers, timeout=30, what="fake Stripe start")
    return process, url


def _simulator(
    env: dict[str, str], log_path: Path
) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """simulate_cpo, its request log (UTC timestamps) in `log_path`."""
    args = [
        PYTHON, MANAGE, "simulate_cpo",
        "--host", "127.0.0.1",
        "--port", "0",
        "--locations", str(LOCATIONS),
        "--ad-hoc-tariffs",
        "--party-id", "STA",
        "--country-code", "NL",
        "--time-scale", "1",
        "--update-interval", "60",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = start(args, {**env, "TZ": "UTC"}, stdout=subprocess.PIPE, stderr=log)
    line: dict[str, str] = json.loads(read_line(process, timeout=60, what="simulate_cpo"))
    return process, line


def _celery_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    level = "info" if TRACE else "warning"
    args = [PYTHON, "-m", "celery", "-A", "config", "worker", "-l", level, "-c", "2"]
    with log_path.open("wb") as log:
        return start(args, {**env, "TZ": "UTC"}, stdout=log, stderr=subprocess.STDOUT)


def _available_evses(database_url: str) -> list[str]:
    rows = _query(
        database_url,
        """SELECT e.evse_id FROM stations_evse e
           JOIN stations_connector c ON c.evse_id = e.id AND c.connector_id = '1'
           WHERE e.status = 'AVAILABLE' ORDER BY e.evse_id""",
    )
    return [row[0] for row in rows]


def _query(database_url: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    import psycopg

    url = database_url.split("?", 1)[0].replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as connection:
        return list(connection.execute(sql, params).fetchall())


# --- the drivers -------------------------------------------------------------------------------


class Driver:
    """What the landing page's script and Stripe.js do, over HTTP, one checkout at a time per
    thread; each waits for the session to reach us before it returns."""

    def __init__(
        self,
        our_url: str,
        stripe_url: str,
        database_url: str,
        budget: Budget,
        worker: subprocess.Popen[bytes],
        worker_log: Path,
    ) -> None:
        self.our_url, self.stripe_url, self.database_url = our_url, stripe_url, database_url
        self.budget, self.worker, self.worker_log = budget, worker, worker_log
        self.local = threading.local()

    def _clients(self) -> tuple[httpx.Client, httpx.Client]:
        if not hasattr(self.local, "ours"):
            self.local.ours = httpx.Client(base_url=self.our_url, timeout=30)
            self.local.stripe = httpx.Client(base_url=self.stripe_url, timeout=30)
        return self.local.ours, self.local.stripe

    def checkout(self, evse_id: str) -> str:
        ours, stripe = self._clients()
        created = ours.post("/api/v1/checkouts", json={"evse_id": evse_id, "connector_id": "1"})
        if created.status_code != 201:
            raise BenchError(f"checkout at {evse_id}: {created.status_code} {created.text[:300]}")
        body = created.json()
        public_id, secret = body["id"], body["setup_client_secret"]
        setup = stripe.post(
            f"/v1/setup_intents/{secret.split('_secret_')[0]}/confirm",
            content=json.dumps(
                {
                    "key": PUBLISHABLE_KEY,
                    "use_stripe_sdk": True,
                    "client_secret": secret,
                    "payment_method_data": {
                        "type": "card",
                        "card": {
                            "number": CARD,
                            "exp_month": "12",
                            "exp_year": "2030",
                            "cvc": "123",
                        },
                        "billing_details": {"address": {"postal_code": "10115"}},
                    },
                }
            ),
        ).json()
        if setup.get("status") != "succeeded":
            raise BenchError(f"confirmCardSetup at {evse_id}: {json.dumps(setup)[:300]}")
        paid = ours.post(
            f"/api/v1/checkouts/{public_id}/pay", json={"payment_method": setup["payment_method"]}
        )
        if paid.status_code != 200:
            raise BenchError(f"pay at {evse_id}: {paid.status_code} {paid.text[:300]}")
        self._wait_for_session(public_id, evse_id)
        return str(public_id)

    def _wait_for_session(self, public_id: str, evse_id: str) -> None:
        def charging() -> bool:
            if self.worker.poll() is not None:
                tail = self.worker_log.read_text(errors="replace")[-2000:]
                raise BenchError(f"the Celery worker exited ({self.worker.returncode}):\n{tail}")
            rows = _query(
                self.database_url,
                "SELECT status, failure_reason FROM payments_checkout WHERE public_id = %s",
                (public_id,),
            )
            status, reason = rows[0]
            if status in ("failed", "expired"):
                raise BenchError(f"checkout at {evse_id} {status}: {reason}")
            return status == "charging"

        wait_until(charging, timeout=self.budget.remaining(STARTED_WITHIN), what=f"{evse_id}")

    def concurrently(self, evses: list[str], drivers: int) -> list[str]:
        """`drivers` threads, each running its share of the checkouts one after the other."""
        done: list[str] = []
        errors: list[BaseException] = []

        def work(share: list[str]) -> None:
            try:
                for evse in share:
                    if errors:
                        return
                    done.append(self.checkout(evse))
            except BaseException as exc:
                errors.append(exc)

        threads = [
            threading.Thread(target=work, args=(evses[n::drivers],), daemon=True)
            for n in range(drivers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=self.budget.remaining())
        if errors:
            raise errors[0]
        if any(thread.is_alive() for thread in threads):
            raise BenchError("concurrent checkouts: not done within the budget")
        return done


# --- the records -------------------------------------------------------------------------------


def _logged(log_path: Path, pattern: re.Pattern[str]) -> list[tuple[datetime, str]]:
    """(time, what) of each line matching `pattern`, whose groups are the date and time to the
    second, the milliseconds, and what happened; the processes log in UTC (TZ=UTC)."""
    found = []
    for line in log_path.read_text(errors="replace").splitlines():
        match = pattern.match(line)
        if match:
            stamp = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            found.append((stamp + timedelta(milliseconds=int(match[2])), match[3]))
    return found


def _records(database_url: str, public_ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = _query(
        database_url,
        """SELECT c.public_id, c.authorized_at, t.uid, t.last_updated, t.pushed_at,
                  r.created_at, r.sent_at, r.responded_at, r.callback_id
           FROM payments_checkout c
           JOIN payments_drivertoken t ON t.checkout_id = c.id
           JOIN ocpi_peer_commandrequest r
             ON r.checkout_id = c.id AND r.command = 'START_SESSION'
           WHERE c.public_id = ANY(%s)""",
        (public_ids,),
    )
    traffic = _query(
        database_url,
        """SELECT method, url, created_at, duration_ms, request_body
           FROM ocpi_peer_trafficlog WHERE direction = 'out' AND method IN ('PUT', 'POST')""",
    )
    records: dict[str, dict[str, Any]] = {}
    for public_id, authorized, uid, issued, pushed, created, sent, responded, callback in rows:
        record = {
            "authorized": authorized,
            "token_issued": issued,
            "token_pushed": pushed,
            "command_created": created,
            "command_sent": sent,
            "command_answered": responded,
        }
        for method, url, logged, duration_ms, body in traffic:
            if method == "PUT" and uid in url:
                record["push_start"] = logged - timedelta(milliseconds=duration_ms)
                record["push_end"] = logged
            elif method == "POST" and url.endswith("/START_SESSION") and callback in body:
                record["start_start"] = logged - timedelta(milliseconds=duration_ms)
                record["start_end"] = logged
        records[public_id] = record
    return records


def _match(
    records: dict[str, dict[str, Any]], times: list[datetime], low: str, high: str, into: str
) -> tuple[int, int]:
    """Give each checkout, as `into`, one of `times` that falls between its `low` and `high`
    records (±1 ms: the logs have millisecond stamps, the traffic log's durations whole
    milliseconds), each time to one checkout: windows taken by their end, each given the
    earliest free time in it (which matches as many as can be matched). Returns (checkouts left
    without one, times that fell within more than one checkout's window)."""
    slack = timedelta(milliseconds=1)
    times = sorted(times)
    windows = sorted(
        (
            (record[low] - slack, record[high] + slack, record)
            for record in records.values()
            if record.get(low) and record.get(high)
        ),
        key=lambda window: window[1],
    )
    taken: set[int] = set()
    unmatched = len(records) - len(windows)
    for begin, end, record in windows:
        for number in range(bisect.bisect_left(times, begin), len(times)):
            if times[number] > end:
                unmatched += 1
                break
            if number not in taken:
                taken.add(number)
                record[into] = times[number]
                break
        else:
            unmatched += 1
    shared = sum(1 for when in times if sum(b <= when <= e for b, e, _ in windows) > 1)
    return unmatched, shared


def _ms(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds() * 1000


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(values),
        "p95": quantile(values, 0.95),
        "max": max(values),
        "min": min(values),
    }


SEGMENTS = (
    ("hold confirmed → task received by the worker (commit, enqueue, Redis) [trace]",
     "authorized", "received"),
    ("  → driver token written (to a pool child, DB connect, issue_token) [trace]",
     "received", "token_issued"),
    ("hold confirmed → driver token written (commit, enqueue, worker, DB connect)",
     "authorized", "token_issued"),
    ("  → token push call started (push_token: queries, Caller)", "token_issued", "push_start"),
    ("  → token push answered (incl. building the httpx client)", "push_start", "push_end"),
    ("  → START_SESSION row written (log row, pushed_at, begin_start)", "push_end",
     "command_created"),
    ("  → START_SESSION call started (send: queries, sent_at, Caller)", "command_created",
     "start_start"),
    ("  → START_SESSION logged by the CPO (incl. building the httpx client)", "start_start",
     "arrived"),
)  # fmt: skip


def _figures(
    database: str,
    records: dict[str, dict[str, Any]],
    runs: tuple[list[str], list[str], list[str]],
    matched: str,
) -> list[Figure]:
    warm, sequential, concurrent = runs
    figures = [Figure("start", "database, broker", None, "", note=f"{database}; {REDIS_URL}")]

    def values(run: list[str], begin: str, end: str) -> list[float]:
        found = (_ms(records[p].get(end), records[p].get(begin)) for p in run)
        return [value for value in found if value is not None]

    one_by_one = f"{len(sequential)} one after the other"
    at_a_time = f"{len(concurrent)}, {CONCURRENT} drivers at a time"
    for label, run in ((one_by_one, sequential), (at_a_time, concurrent)):
        totals = values(run, "authorized", "arrived")
        if not totals:
            continue
        stats = _stats(totals)
        note = f"{len(totals)} measured; min {stats['min']:.0f}, max {stats['max']:.0f} ms"
        if run is sequential:
            warm_totals = ", ".join(f"{t:.0f}" for t in values(warm, "authorized", "arrived"))
            note += f"; warm-up (not counted): {warm_totals} ms; {matched}"
        target = run is sequential
        figures += [
            Figure("start", f"hold confirmed → START_SESSION at the CPO, median, {label}",
                   stats["p50"], "ms", f"< {TARGET_MEDIAN_MS:.0f} ms" if target else "",
                   stats["p50"] < TARGET_MEDIAN_MS if target else None, note),
            Figure("start", f"  p95, {label}", stats["p95"], "ms",
                   f"< {TARGET_P95_MS:.0f} ms" if target else "",
                   stats["p95"] < TARGET_P95_MS if target else None),
        ]  # fmt: skip
    for name, begin, end in SEGMENTS:
        alone, busy = values(sequential, begin, end), values(concurrent, begin, end)
        if not alone:
            continue
        one, many = _stats(alone), _stats(busy) if busy else None
        note = f"median one after the other; p95 {one['p95']:.1f}, max {one['max']:.1f} ms"
        if many:
            note += f"; {CONCURRENT} at a time: median {many['p50']:.1f}, p95 {many['p95']:.1f} ms"
        figures.append(Figure("start", name, one["p50"], "ms", note=note))
    return figures
