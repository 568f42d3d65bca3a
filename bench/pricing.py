"""`python -m bench pricing`: `stations.pricing.price_session` on a 100-period session.

The tariff is the spec's `tariff_4_complex.json` (start fee, TIME by current and weekday,
PARKING_TIME by time of day), read the way we read every 2.2.1 tariff (the version's
TariffSerializer, then `stations.tariffs.from_fields`) in Berlin time. The session: a Friday from
11:00 local, 100 periods of 6 minutes, charging at 16 A and 40 A in turns of an hour (both sides
of the tariff's 32 A limits) with 12 minutes of parking every hour, into the evening past the
18:00 end of the parking charge, so the engine cuts and looks up elements as a real smart-charging
CDR makes it do. Reported: median and p95 wall time per call, after a warm-up.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.support import ROOT, Budget, Figure, app_env

BUDGET_SECONDS = 60
EXAMPLE = ROOT / "tests" / "ocpi_examples" / "2.2.1" / "tariff_4_complex.json"
PERIODS = 100
PERIOD = timedelta(minutes=6)
START = datetime(2025, 6, 13, 9, 0, tzinfo=UTC)  # Friday 11:00 in Berlin (CEST)
CALLS, WARMUP = 2_000, 20


def run(budget_seconds: float = BUDGET_SECONDS) -> list[Figure]:
    budget = Budget(budget_seconds, "pricing")
    # In this process (the engine needs no database): the settings the app runs with here,
    # where the environment does not say otherwise, or it refuses to start without secrets.
    for key, value in app_env("sqlite://:memory:").items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from ocpi_peer import versions
    from ocpi_peer.transport import loads
    from stations.pricing import price_session
    from stations.tariffs import from_fields

    spec = versions.get("2.2.1")
    fields = spec.read(spec.tariff, loads(EXAMPLE.read_bytes()))
    tariff = from_fields(fields, time_zone="Europe/Berlin")
    periods = session()
    end = START + PERIODS * PERIOD

    def call() -> Any:
        return price_session(tariff, periods, end=end)

    for _ in range(WARMUP):
        cost = call()
    walls: list[float] = []
    cpus: list[float] = []  # this thread's CPU time: what other processes cannot inflate
    stop_at = time.monotonic() + budget.remaining(30)
    while len(walls) < CALLS and time.monotonic() < stop_at:
        wall, cpu = time.perf_counter(), time.thread_time()
        call()
        cpus.append(time.thread_time() - cpu)
        walls.append(time.perf_counter() - wall)
    median, p95 = _ms(walls, 0.5), _ms(walls, 0.95)
    total = cost.rounded_total
    note = (
        f"{len(walls)} calls; {len(cost.lines)} cost lines, total {total.excl_vat} / "
        f"{total.incl_vat} {cost.currency}"
    )
    cpu_note = f"CPU time: median {_ms(cpus, 0.5):.2f} ms, p95 {_ms(cpus, 0.95):.2f} ms"
    return [
        Figure(
            "pricing",
            "price_session, 100 periods, median",
            median,
            "ms",
            "< 5 ms",
            median < 5,
            note,
        ),
        Figure(
            "pricing", "price_session, 100 periods, p95", p95, "ms", "< 5 ms", p95 < 5, cpu_note
        ),
    ]


def _ms(samples: list[float], quantile: float) -> float:
    ordered = sorted(samples)
    return ordered[int(quantile * (len(ordered) - 1))] * 1000


def session() -> list[Any]:
    """100 ChargingPeriods: per hour, 48 minutes charging (16 A and 40 A alternately by the
    hour, three phases at 230 V) and 12 minutes parked."""
    from stations.pricing import ChargingPeriod

    tenth = Decimal("0.1")  # 6 minutes in hours
    periods = []
    for number in range(PERIODS):
        start = START + number * PERIOD
        if number % 10 >= 8:
            periods.append(ChargingPeriod(start=start, dimensions={"PARKING_TIME": tenth}))
            continue
        amps = Decimal(16) if (number // 10) % 2 == 0 else Decimal(40)
        kw = amps * 3 * 230 / 1000
        dimensions = {
            "ENERGY": kw * tenth,
            "TIME": tenth,
            "CURRENT": amps,
            "MIN_CURRENT": amps,
            "MAX_CURRENT": amps,
            "POWER": kw,
        }
        periods.append(ChargingPeriod(start=start, dimensions=dimensions))
    return periods
