"""`python -m bench [pull] [patch] [pricing] [session] [landing] [start] [settle] [loop]
[bigdata]`: run the benchmarks (all but `loop` and `bigdata` by default), each inside its own
time budget, and print one table of figures. Progress goes to stderr; the table to stdout. The
exit status is 0 even when a target is missed (the table says so), 1 when a benchmark could not
run or a correctness check failed (`loop`'s books)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable
from functools import partial
from types import FrameType

from bench import bigdata, landing, loop, patch, pricing, pull, session_update, settle, start
from bench.support import BenchError, Figure, print_table, say, stop_all

BENCHMARKS: dict[str, Callable[[], list[Figure]]] = {
    "pull": pull.run,
    "patch": patch.run,
    "pricing": pricing.run,
    "session": session_update.run,
    "landing": landing.run,
    "start": start.run,
    "settle": settle.run,
    "loop": loop.run,
    "bigdata": bigdata.run,
}
HEAVY = ("loop", "bigdata")  # minutes each, and a machine's worth of processes: on request only


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of counts: {text}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of counts: {text}")
    return sizes


def _stopped(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every benchmark stops its processes on the way out."""
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    parser.add_argument(
        "--drivers",
        type=_sizes,
        default=list(loop.SIZES),
        help="loop: drivers at a time, e.g. 20,50,100",
    )
    parser.add_argument(
        "--duration", type=float, default=loop.DURATION, help="loop: seconds of new rounds per size"
    )
    parser.add_argument(
        "--checkouts", type=_sizes, default=[bigdata.CHECKOUTS], help="bigdata: checkouts generated"
    )
    parser.add_argument(
        "--traffic-rows",
        type=_sizes,
        default=[bigdata.TRAFFIC_ROWS],
        help="bigdata: traffic-log rows generated",
    )
    parser.add_argument(
        "--locations",
        type=_sizes,
        default=list(pull.SIZES),
        help="pull: sizes of the pull compared, e.g. 10000,100000",
    )
    options = parser.parse_args(argv)
    names = options.names or [name for name in BENCHMARKS if name not in HEAVY]
    benchmarks = BENCHMARKS | {
        "loop": partial(loop.run, options.drivers, options.duration),
        "bigdata": partial(bigdata.run, options.checkouts[0], options.traffic_rows[0]),
        "pull": partial(pull.run, sizes=options.locations),
    }
    signal.signal(signal.SIGTERM, _stopped)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    figures: list[Figure] = []
    failed = False
    for name in names:
        started = time.monotonic()
        load_before = os.getloadavg()[0]
        say(f"{name}: starting")
        try:
            figures += benchmarks[name]()
        except BenchError as exc:
            failed = True
            figures += getattr(exc, "figures", [])
            figures.append(Figure(name, "could not run", None, "", ok=False, note=str(exc)))
            say(f"{name}: {exc}")
        except KeyboardInterrupt:
            say(f"{name}: interrupted; every process it started is stopped")
            print_table(figures)
            return 130
        finally:
            stop_all()
        seconds = time.monotonic() - started
        figures.append(
            Figure(
                name,
                "took",
                seconds,
                "s",
                note=f"machine load average {load_before:.1f} before, {os.getloadavg()[0]:.1f}"
                f" after, on {os.cpu_count()} CPUs (other processes' load skews these figures)",
            )
        )
        say(f"{name}: done in {seconds:.0f} s")
    print_table(figures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
