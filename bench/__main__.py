"""`python -m bench [pull] [patch] [pricing] [session] [landing] [start] [settle]`: run the
benchmarks (all by default), each inside its own time budget, and print one table of figures.
Progress goes to stderr; the table to stdout. The exit status is 0 even when a target is missed
(the table says so), 1 when a benchmark could not run."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

from bench import landing, patch, pricing, pull, session_update, settle, start
from bench.support import BenchError, Figure, print_table, say, stop_all

BENCHMARKS: dict[str, Callable[[], list[Figure]]] = {
    "pull": pull.run,
    "patch": patch.run,
    "pricing": pricing.run,
    "session": session_update.run,
    "landing": landing.run,
    "start": start.run,
    "settle": settle.run,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=", ".join(BENCHMARKS))
    names = parser.parse_args(argv).names or list(BENCHMARKS)
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
            figures += BENCHMARKS[name]()
        except BenchError as exc:
            failed = True
            figures.append(Figure(name, "could not run", None, "", ok=False, note=str(exc)))
            say(f"{name}: {exc}")
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
