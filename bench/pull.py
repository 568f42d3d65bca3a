"""`python -m bench pull`: pulling a CPO's locations through `ocpi_peer.sync.pull`.

Our app runs under gunicorn (so the simulator can call us back while we register), each CPO is
`manage.py simulate_cpo` in its own process, and each pull runs in a fresh worker process
(`python -m bench.pull worker`) that registers with `register_with_cpo` and pulls, so its memory
figures are its own. Every CPO has its own party id: every full pull really writes.

Figures: a full pull of 10,000 locations (2 EVSEs × 2 connectors, page size 1,000); the peak
memory growth of that pull and of one of 20,000, and their difference (RSS high-water mark, and
tracemalloc's peak in separate runs, since tracing slows the pull down); a second, incremental
pull and a forced full pull of unchanged data (rows written); and a pull with 200 ms of CPO
latency per request at page size 50, run on 2,000 locations and extrapolated to 10,000.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
import tracemalloc
from typing import Any

from bench.support import (
    PYTHON,
    Budget,
    Figure,
    app_env,
    gunicorn,
    peak_rss_mib,
    reset_peak_rss,
    rss_mib,
    run_json,
    say,
    scratch_database,
    simulator,
)

BUDGET_SECONDS = 420
FULL = 10_000
DOUBLE = 20_000
PAGE = 1_000
SLOW_COUNT, SLOW_PAGE, SLOW_LATENCY = 2_000, 50, 0.2


def run(budget_seconds: float = BUDGET_SECONDS) -> list[Figure]:
    budget = Budget(budget_seconds, "pull")
    figures: list[Figure] = []
    with scratch_database(require_postgres=False) as db:
        say(f"pull: database {db.description}")
        env = app_env(db.url)
        with gunicorn(env) as our_url:
            env = {**env, "PUBLIC_BASE_URL": our_url}

            def pull(label: str, count: int, page: int, party: str, **options: Any) -> Any:
                latency = options.pop("latency", 0.0)
                say(f"pull: {label}: {count} locations, page size {page}, latency {latency} s")
                with simulator(
                    env, locations=count, page_size=page, party_id=party, latency=latency
                ) as cpo:
                    args = [PYTHON, "-m", "bench.pull", "worker", "--versions-url"]
                    args += [cpo["versions_url"]]
                    args += [f"--{name.replace('_', '-')}" for name, on in options.items() if on]
                    worker_env = {**env, "OCPI_TOKEN_A": cpo["token_a"]}
                    return run_json(args, worker_env, timeout=budget.remaining(), what=label)

            base = pull("10k", FULL, PAGE, "BPA", again=True)
            double = pull("20k", DOUBLE, PAGE, "BPB")
            traced = pull("10k traced", FULL, PAGE, "BPC", trace=True)
            traced_double = pull("20k traced", DOUBLE, PAGE, "BPD", trace=True)
            slow = pull("latency", SLOW_COUNT, SLOW_PAGE, "BPL", latency=SLOW_LATENCY)

    db_note = "PostgreSQL" if db.postgres else "SQLite"
    figures.append(
        Figure(
            "pull",
            f"full pull, {FULL:,} locations ({db_note})",
            base["seconds"],
            "s",
            "< 20 s",
            base["seconds"] < 20,
            f"{base['received']} received, {base['written']} written, {base['pages']} pages",
        )
    )
    figures.append(
        Figure("pull", f"full pull, {DOUBLE:,} locations", double["seconds"], "s", note="")
    )
    rss_10, rss_20 = base["rss_growth_mib"], double["rss_growth_mib"]
    figures.append(Figure("pull", "RSS peak growth, 10k pull", rss_10, "MB"))
    figures.append(Figure("pull", "RSS peak growth, 20k pull", rss_20, "MB"))
    figures.append(
        Figure(
            "pull",
            "RSS growth difference 20k - 10k",
            rss_20 - rss_10,
            "MB",
            "< 30 MB",
            rss_20 - rss_10 < 30,
            "" if base["peak_reset"] else "VmHWM could not be reset: growth from process start",
        )
    )
    tm_10, tm_20 = traced["traced_peak_mib"], traced_double["traced_peak_mib"]
    figures.append(Figure("pull", "tracemalloc peak, 10k pull", tm_10, "MB"))
    figures.append(Figure("pull", "tracemalloc peak, 20k pull", tm_20, "MB"))
    figures.append(
        Figure(
            "pull",
            "tracemalloc peak difference 20k - 10k",
            tm_20 - tm_10,
            "MB",
            "< 30 MB",
            tm_20 - tm_10 < 30,
        )
    )
    figures.append(
        Figure(
            "pull",
            "incremental pull of unchanged data: written",
            base["again"]["written"],
            "rows",
            "0",
            base["again"]["written"] == 0,
            f"{base['again']['received']} received (date_from = last pull - 5 min), "
            f"{base['again']['seconds']:.2f} s",
        )
    )
    figures.append(
        Figure(
            "pull",
            "forced full pull of unchanged data: written",
            base["full_again"]["written"],
            "rows",
            "0",
            base["full_again"]["written"] == 0,
            f"{base['full_again']['received']} received, {base['full_again']['seconds']:.1f} s",
        )
    )
    factor = FULL / SLOW_COUNT
    figures.append(
        Figure(
            "pull",
            f"pull, {SLOW_COUNT:,} locations, page {SLOW_PAGE}, +{SLOW_LATENCY * 1000:.0f} ms/req",
            slow["seconds"],
            "s",
            note=f"{slow['pages']} pages; waiting alone is {slow['pages'] * SLOW_LATENCY:.0f} s",
        )
    )
    figures.append(
        Figure(
            "pull",
            f"  same, extrapolated to {FULL:,} locations (x{factor:g})",
            slow["seconds"] * factor,
            "s",
            note=f"{slow['pages'] * factor:.0f} sequential pages of {SLOW_PAGE}",
        )
    )
    return figures


# --- the worker: one registration and pull in a fresh process --------------------------------


def worker(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pull worker")
    parser.add_argument("--versions-url", required=True)
    parser.add_argument("--again", action="store_true", help="then pull again, twice")
    parser.add_argument("--trace", action="store_true", help="measure with tracemalloc")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from ocpi_peer import sync
    from ocpi_peer.models import Partner, SyncState
    from ocpi_peer.registration import register_with_cpo

    partner = register_with_cpo(versions_url=args.versions_url, token=os.environ["OCPI_TOKEN_A"])
    Partner.objects.get(pk=partner.pk)  # warm: the pull's first query is not the connection's
    gc.collect()
    if args.trace:
        tracemalloc.start()
    peak_reset = reset_peak_rss()
    before = rss_mib()
    started = time.perf_counter()
    outcome = sync.pull(partner_id=partner.pk, module="locations")
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "seconds": seconds,
        "received": outcome.received,
        "written": outcome.written,
        "rejected": outcome.rejected,
        "rss_before_mib": before,
        "rss_growth_mib": peak_rss_mib() - before,
        "peak_reset": peak_reset,
        "pages": _pages(partner.pk),
    }
    if args.trace:
        result["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    if args.again:
        for key, full in (("again", False), ("full_again", True)):
            started = time.perf_counter()
            outcome = sync.pull(partner_id=partner.pk, module="locations", full=full)
            result[key] = {
                "seconds": time.perf_counter() - started,
                "received": outcome.received,
                "written": outcome.written,
            }
    assert SyncState.objects.get(partner=partner, module="locations").last_ok
    print(json.dumps(result))


def _pages(partner_id: int) -> int:
    """Pages fetched: our traffic log has one outbound row per GET of the list."""
    from ocpi_peer.models import TrafficLog

    return TrafficLog.objects.filter(
        partner_id=partner_id, direction="out", method="GET", url__contains="/locations"
    ).count()


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] != ["worker"]:
        raise SystemExit("usage: python -m bench.pull worker ... (or: python -m bench pull)")
    worker(sys.argv[2:])
