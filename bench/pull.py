"""`python -m bench pull`: pulling a CPO's locations through `ocpi_peer.sync.pull`.

Our app runs under gunicorn (so the simulator can call us back while we register), each CPO is
`manage.py simulate_cpo` in its own process, and each pull runs in a fresh worker process
(`python -m bench.pull worker`) that registers with `register_with_cpo` and pulls, so its memory
figures are its own. Every CPO has its own party id: every full pull really writes.

Figures: a full pull of 10,000 locations (2 EVSEs × 2 connectors, page size 1,000) and of each
further size asked for (`--locations 10000,100000`; 10,000 and 20,000 by default); the peak
memory growth of each pull, and the difference between the largest and the smallest (RSS
high-water mark, and tracemalloc's peak in separate runs, since tracing slows the pull down),
and the time per location of the largest against the smallest (linear: about 1×); a second,
incremental pull and a forced full pull of unchanged data (rows written); and a pull with 200 ms
of CPO latency per request at page size 50, run on 2,000 locations and extrapolated to 10,000.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import time
import tracemalloc
from collections.abc import Sequence
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

BUDGET_SECONDS = 420  # for the default sizes; larger ones get time in proportion
FULL = 10_000
SIZES = (FULL, 20_000)
PAGE = 1_000
SLOW_COUNT, SLOW_PAGE, SLOW_LATENCY = 2_000, 50, 0.2
TRACED_UP_TO = 20_000  # tracemalloc slows a pull 2-3×: larger pulls give their RSS figures only
PARTIES = ("BPB", "BPE", "BPF", "BPG", "BPH")  # one CPO party for each further size


def run(budget_seconds: float | None = None, sizes: Sequence[int] = SIZES) -> list[Figure]:
    """A full pull of each of `sizes` locations (the first with the incremental and forced
    pulls after it), each again under tracemalloc, and the slow CPO: time and peak memory
    growth per size, so that a 10× larger CPO can be seen to cost 10× the time and no more
    memory."""
    sizes = sorted(sizes)[: len(PARTIES) + 1]
    if budget_seconds is None:
        budget_seconds = BUDGET_SECONDS * max(1.0, sum(sizes) / sum(SIZES))
    budget = Budget(budget_seconds, "pull")
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

            parties = ("BPA", *PARTIES)
            plain = [
                pull(_k(size), size, PAGE, parties[n], again=n == 0) for n, size in enumerate(sizes)
            ]
            traced = [
                pull(f"{_k(size)} traced", size, PAGE, "T" + parties[n][1:], trace=True)
                if size <= TRACED_UP_TO
                else None
                for n, size in enumerate(sizes)
            ]
            slow = pull("latency", SLOW_COUNT, SLOW_PAGE, "BPL", latency=SLOW_LATENCY)
    return _figures("PostgreSQL" if db.postgres else "SQLite", sizes, plain, traced, slow)


def _k(count: int) -> str:
    return f"{count // 1000}k" if count % 1000 == 0 else str(count)


def _figures(
    db_note: str, sizes: list[int], plain: list[Any], traced: list[Any | None], slow: Any
) -> list[Figure]:
    figures: list[Figure] = []
    base = plain[0]
    for size, result, trace in zip(sizes, plain, traced, strict=True):
        target = size == FULL
        figures += [
            Figure("pull", f"full pull, {size:,} locations ({db_note})", result["seconds"], "s",
                   "< 20 s" if target else "", result["seconds"] < 20 if target else None,
                   f"{result['received']} received, {result['written']} written, "
                   f"{result['pages']} pages; {result['seconds'] / size * 1000 * 1000:.1f} ms "
                   f"per 1,000 locations"),
            Figure("pull", f"  RSS peak growth, {_k(size)} pull", result["rss_growth_mib"], "MB",
                   note=f"VmHWM; getrusage's ru_maxrss {result['maxrss_mib']:.0f} MB, "
                   f"RSS before {result['rss_before_mib']:.0f} MB"
                   + ("" if result["peak_reset"] else "; VmHWM not reset: growth from start")),
        ]  # fmt: skip
        if trace:
            figures.append(
                Figure("pull", f"  tracemalloc peak, {_k(size)} pull", trace["traced_peak_mib"],
                       "MB", note=f"{trace['seconds']:.1f} s under tracemalloc")
            )  # fmt: skip
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        first, last = plain[0], plain[-1]
        rss = last["rss_growth_mib"] - first["rss_growth_mib"]
        peaks = [(size, t["traced_peak_mib"]) for size, t in zip(sizes, traced, strict=True) if t]
        per_small = first["seconds"] / small
        per_large = last["seconds"] / large
        figures += [
            Figure("pull", f"RSS growth difference {_k(large)} - {_k(small)}", rss, "MB",
                   "< 30 MB", rss < 30),
            Figure("pull", f"time per location, {_k(large)} / {_k(small)}", per_large / per_small,
                   "×", "< 1.5 × (linear)", per_large / per_small < 1.5,
                   f"{per_small * 1e6:.0f} vs {per_large * 1e6:.0f} µs per location"),
        ]  # fmt: skip
        if len(peaks) > 1:
            (low, low_peak), (high, high_peak) = peaks[0], peaks[-1]
            figures.append(
                Figure("pull", f"tracemalloc peak difference {_k(high)} - {_k(low)}",
                       high_peak - low_peak, "MB", "< 30 MB", high_peak - low_peak < 30)
            )  # fmt: skip
    figures += [
        Figure("pull", "incremental pull of unchanged data: written", base["again"]["written"],
               "rows", "0", base["again"]["written"] == 0,
               f"{base['again']['received']} received (date_from = last pull - 5 min), "
               f"{base['again']['seconds']:.2f} s"),
        Figure("pull", "forced full pull of unchanged data: written",
               base["full_again"]["written"], "rows", "0", base["full_again"]["written"] == 0,
               f"{base['full_again']['received']} received, {base['full_again']['seconds']:.1f} s"),
    ]  # fmt: skip
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
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
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
