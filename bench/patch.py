"""`python -m bench patch`: EVSE status PATCHes pushed by a CPO, through our whole path.

PostgreSQL only (SQLite serialises writers). The CPO (`bench.loadgen setup`) registers with our
app under gunicorn and PUTs 500 locations (1,000 EVSEs); then `bench.loadgen` PATCHes
`/ocpi/2.2.1/locations/NL/SIM/{location}/{evse}` with its token: authentication, routing-header
check, validation, the stale-update check and the traffic log. In the same run and on the same
gunicorn configuration, the same writes go to `bench.bare`'s view (same service call, no
middleware) as a yardstick. Then open-loop PATCHes at 100/s, alone and while our app pulls
10,000 locations from a simulated CPO (`ocpi_sync`).

Two database settings are measured, because they differ by a factor of two or more: persistent
connections (`?conn_max_age=60` on DATABASE_URL; also what `config/settings.py` ships, its
CONN_MAX_AGE default being 60) and a new PostgreSQL connection per request (CONN_MAX_AGE=0, a
deployment choice). The gunicorn configurations are compared with persistent connections; the
best one is used for the rest. Figures move by a third between runs on a shared 2-core machine:
compare runs made one after the other, and read the load average with them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from typing import Any

from bench.support import (
    MANAGE,
    PYTHON,
    BenchError,
    Budget,
    Figure,
    app_env,
    gunicorn,
    read_line,
    run_json,
    say,
    scratch_database,
    server_cpu_seconds,
    simulator,
    start,
    stop,
    with_query,
)

BUDGET_SECONDS = 600  # a busy shared machine slows the pull down
LOCATIONS = 500
CONCURRENCY = 8
WARMUP, DURATION = 2.0, 8.0
RATE = 100
PULL_LOCATIONS, PULL_PAGE = 10_000, 1_000
CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("sync ×2", {"workers": 2, "worker_class": "sync"}),
    ("sync ×4", {"workers": 4, "worker_class": "sync"}),
    ("gthread 2×4", {"workers": 2, "worker_class": "gthread", "threads": 4}),
]
# PER_REQUEST: DATABASE_URL as given (no conn_max_age) and CONN_MAX_AGE=0 in the environment.
PERSISTENT, PER_REQUEST = "persistent connections", "new connection per request"


class Stamps:
    """Every run's `last_updated` values start after the previous run's and never before now."""

    def __init__(self) -> None:
        self.next_ms = int(time.time() * 1000)

    def base(self) -> int:
        self.next_ms = max(self.next_ms, int(time.time() * 1000))
        return self.next_ms

    def used(self, result: dict[str, Any]) -> None:
        self.next_ms = max(self.next_ms, result["last_stamp_ms"] + 1)


class Run:
    """One benchmark run: the database, the CPO's token and EVSEs, the stamps, the budget."""

    def __init__(self, budget: Budget, database_url: str, cpo: dict[str, Any]) -> None:
        self.budget, self.database_url, self.cpo = budget, database_url, cpo
        self.stamps = Stamps()

    def env(self, variant: str, base_env: dict[str, str]) -> dict[str, str]:
        if variant == PER_REQUEST:
            return {**base_env, "CONN_MAX_AGE": "0"}
        if "conn_max_age" in self.database_url:
            return base_env
        return {**base_env, "DATABASE_URL": with_query(self.database_url, conn_max_age="60")}

    def target(self, base: str, *, bare: bool = False) -> dict[str, Any]:
        where = f"{self.cpo['country_code']}/{self.cpo['party_id']}"
        if bare:
            return {"url": f"{base}/bench/bare/locations/{where}", "evses": self.cpo["evses"]}
        url = f"{base}/ocpi/2.2.1/locations/{where}"
        return {"url": url, "token": self.cpo["token"], "evses": self.cpo["evses"]}

    def load(self, mode: str, target: dict[str, Any], env: dict[str, str], **options: Any) -> Any:
        args = [PYTHON, "-m", "bench.loadgen", mode, "--target", json.dumps(target)]
        args += ["--stamp-base-ms", str(self.stamps.base())]
        for name, value in options.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        result = run_json(args, env, timeout=self.budget.remaining(120), what=f"loadgen {mode}")
        self.stamps.used(result)
        return result

    def closed(self, env: dict[str, str], config: dict[str, Any], *, bare: bool) -> Any:
        settings = "bench.settings_bare" if bare else None
        logged = _count_patches_logged(self.database_url)
        with gunicorn(env, settings=settings, **config) as base:
            cpu = server_cpu_seconds(base)
            result = self.load(
                "closed",
                self.target(base, bare=bare),
                env,
                concurrency=CONCURRENCY,
                warmup=WARMUP,
                duration=DURATION,
            )
            cpu = server_cpu_seconds(base) - cpu
        result["server_cpu_ms"] = cpu * 1000 / result["sent"] if result["sent"] else 0.0
        # Counted once gunicorn has stopped: its workers write the rows still waiting as they exit.
        result["logged"] = _count_patches_logged(self.database_url) - logged
        return result

    def at_rate(self, env: dict[str, str], config: dict[str, Any], party: str) -> Any:
        """p99 at RATE/s alone, then while `ocpi_sync` pulls PULL_LOCATIONS from a new CPO."""
        with gunicorn(env, **config) as base:
            quiet = self.load(
                "open", self.target(base), env, rate=RATE, warmup=WARMUP, duration=DURATION
            )
            here = {**env, "PUBLIC_BASE_URL": base}
            with simulator(
                env, locations=PULL_LOCATIONS, page_size=PULL_PAGE, party_id=party
            ) as pull_cpo:
                partner = run_json(
                    [PYTHON, MANAGE, "ocpi_register", "--versions-url", pull_cpo["versions_url"]],
                    {**here, "OCPI_TOKEN_A": pull_cpo["token_a"]},
                    timeout=self.budget.remaining(60),
                    what="ocpi_register",
                )
                busy = self._during_pull(self.target(base), here, partner["partner_id"])
        return quiet, busy

    def _during_pull(self, target: dict[str, Any], env: dict[str, str], partner_id: int) -> Any:
        """Open-loop PATCHes from just before `ocpi_sync` starts until it has ended."""
        args = [PYTHON, "-m", "bench.loadgen", "open", "--target", json.dumps(target)]
        args += ["--stamp-base-ms", str(self.stamps.base()), "--rate", str(RATE)]
        args += ["--warmup", str(WARMUP), "--duration", "240"]
        loadgen = start(args, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            read_line(loadgen, timeout=30, what="loadgen open")  # warmed up, now measuring
            started = time.monotonic()
            pulled = run_json(
                [
                    PYTHON,
                    MANAGE,
                    "ocpi_sync",
                    "--partner",
                    str(partner_id),
                    "--module",
                    "locations",
                ],
                env,
                timeout=self.budget.remaining(240),
                what="ocpi_sync",
            )[0]
            pull_seconds = time.monotonic() - started
            loadgen.send_signal(signal.SIGINT)
            stdout, _ = loadgen.communicate(timeout=60)
        finally:
            stop(loadgen)
        result = json.loads(stdout.decode().strip().splitlines()[-1])
        self.stamps.used(result)
        return {**result, "pull_seconds": pull_seconds, "pulled": pulled}


def run(budget_seconds: float = BUDGET_SECONDS) -> list[Figure]:
    budget = Budget(budget_seconds, "patch")
    with scratch_database(require_postgres=True) as db:
        say(f"patch: database {db.description}")
        base_env = app_env(db.url)  # one env: the token encryption key must stay the same
        with gunicorn(base_env) as our_url:
            invite = run_json(
                [PYTHON, MANAGE, "ocpi_invite", "--name", "Bench CPO"],
                {**base_env, "PUBLIC_BASE_URL": our_url},
                timeout=budget.remaining(60),
                what="ocpi_invite",
            )
            say(f"patch: the CPO registers and PUTs {LOCATIONS} locations")
            cpo = run_json(
                [
                    *(PYTHON, "-m", "bench.loadgen", "setup"),
                    *("--versions-url", invite["versions_url"], "--locations", str(LOCATIONS)),
                ],
                {**base_env, "OCPI_TOKEN_A": invite["token"]},
                timeout=budget.remaining(120),
                what="loadgen setup",
            )
        bench = Run(budget, db.url, cpo)
        closed: dict[tuple[str, str, str], dict[str, Any]] = {}

        def measure(variant: str, label: str, config: dict[str, Any]) -> None:
            for app in ("ours", "bare"):
                result = bench.closed(bench.env(variant, base_env), config, bare=app == "bare")
                closed[(variant, label, app)] = result
                say(
                    f"patch: {variant}, {label}, {app}: {result['rps']:.0f}/s, "
                    f"p99 {result['p99_ms']:.1f} ms, {result['not_ok'] + result['errors']} failed"
                )

        for label, config in CONFIGS:
            measure(PERSISTENT, label, config)
        best, best_config = max(CONFIGS, key=lambda c: closed[(PERSISTENT, c[0], "ours")]["rps"])
        variants = [(PERSISTENT, "BPP")]
        if "conn_max_age" not in db.url:  # else DATABASE_URL decides, and CONN_MAX_AGE can't
            measure(PER_REQUEST, best, best_config)
            variants.append((PER_REQUEST, "BPQ"))
        at_rate = {}
        lost: list[Figure] = []
        for variant, party in variants:
            say(f"patch: {variant}: {RATE}/s on {best}, alone, then during a {PULL_LOCATIONS} pull")
            try:
                at_rate[variant] = bench.at_rate(bench.env(variant, base_env), best_config, party)
            except BenchError as exc:  # the figures measured so far still count
                say(f"patch: {variant}: {exc}")
                what = f"p99 at {RATE}/s, {variant}"
                lost.append(Figure("patch", what, None, "", ok=False, note=str(exc)))
    return _figures(closed, best, at_rate, db.description) + lost


def _count_patches_logged(database_url: str) -> int:
    """Inbound PATCHes in our traffic log: each of ours must have left a row."""
    import psycopg

    url = database_url.split("?", 1)[0].replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM ocpi_peer_trafficlog WHERE direction = 'in' AND method = 'PATCH'"
        ).fetchone()
    return int(row[0]) if row else 0


def _failed(result: dict[str, Any]) -> int:
    return int(result["not_ok"] + result["errors"])


def _figures(
    closed: dict[tuple[str, str, str], dict[str, Any]],
    best: str,
    at_rate: dict[str, tuple[dict[str, Any], dict[str, Any]]],
    database: str,
) -> list[Figure]:
    figures = [Figure("patch", "database", None, "", note=database)]
    for variant, label, app in closed:
        if app != "ours":
            continue
        mine, yardstick = closed[(variant, label, "ours")], closed[(variant, label, "bare")]
        ratio = mine["rps"] / yardstick["rps"] if yardstick["rps"] else 0.0
        where = f"{variant}, {label}{' (best)' if label == best else ''}"
        figures += [
            Figure(
                "patch",
                f"our PATCH path, {where}",
                mine["rps"],
                "req/s",
                "≥ 1,000/s",
                mine["rps"] >= 1000,
                f"p50 {mine['p50_ms']:.1f} ms, p99 {mine['p99_ms']:.1f} ms at {CONCURRENCY} in "
                f"flight; {_failed(mine)} failed; {mine['logged']} rows in the traffic log; "
                f"{mine['server_cpu_ms']:.2f} ms of gunicorn's CPU a request",
            ),
            Figure(
                "patch",
                f"  bare Django view, {variant}, {label}",
                yardstick["rps"],
                "req/s",
                note=f"p50 {yardstick['p50_ms']:.1f} ms, p99 {yardstick['p99_ms']:.1f} ms; "
                f"{_failed(yardstick)} failed; {yardstick['server_cpu_ms']:.2f} ms of gunicorn's"
                " CPU a request",
            ),
            Figure(
                "patch",
                "  ours / bare",
                ratio,
                "",
                "≥ 0.6",
                ratio >= 0.6 and not _failed(yardstick),
                "no ratio: the yardstick's answers failed" if _failed(yardstick) else "",
            ),
            Figure(
                "patch",
                "  bare's CPU / ours (a request)",
                yardstick["server_cpu_ms"] / mine["server_cpu_ms"] if mine["server_cpu_ms"] else 0,
                "",
                note="what the ratio of requests/s tends to where our CPU is the bottleneck",
            ),
        ]
    for variant, (quiet, busy) in at_rate.items():
        figures += [
            Figure(
                "patch",
                f"p99 at {RATE}/s, {variant}, {best}, no pull",
                quiet["p99_ms"],
                "ms",
                note=f"p50 {quiet['p50_ms']:.1f} ms, max {quiet['max_ms']:.1f} ms, "
                f"{quiet['requests']} requests, {_failed(quiet)} failed",
            ),
            Figure(
                "patch",
                f"p99 at {RATE}/s, {variant}, during a {PULL_LOCATIONS:,}-location pull",
                busy["p99_ms"],
                "ms",
                "< 50 ms",
                busy["p99_ms"] is not None and busy["p99_ms"] < 50,
                f"p50 {busy['p50_ms']:.1f} ms, p90 {busy['p90_ms']:.1f} ms, max "
                f"{busy['max_ms']:.1f} ms, {busy['requests']} requests, {_failed(busy)} failed;"
                f" the pull took {busy['pull_seconds']:.1f} s ({busy['pulled'].get('written')}"
                " written)",
            ),
        ]
    return figures
