"""The CPO side of `python -m bench patch`, in a process of its own: `python -m bench.loadgen`.

`setup`: a `CpoSimulator` (the simulator is independent of the product, so importing it here
brings in none of our code) registers with our app using a token A from `ocpi_invite`, PUTs its
locations to us, and prints the token we issued and the EVSEs to patch.

`closed` and `open`: EVSE status PATCHes over raw HTTP/1.1 sockets (asyncio; no HTTP library,
so the generator takes as little of the 2 cores as it can). `closed` keeps `--concurrency`
requests in flight for `--duration` seconds after `--warmup` (throughput). `open` starts
`--rate` requests a second on schedule whatever the answers do, until `--duration` or SIGINT, and
measures each latency from its scheduled start, so a stalled server cannot hide its queue
(no coordinated omission). Every PATCH carries a fresh `last_updated`, 1 ms after the previous
one from `--stamp-base-ms` on, on the EVSEs in turn: every request really writes.

Each prints one JSON line: counts, requests/s, latency percentiles in ms, its own CPU seconds
and the last stamp it used.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from bench.support import latency_percentiles

STATUSES = (b"AVAILABLE", b"CHARGING", b"BLOCKED", b"OUTOFORDER")


def setup(argv: list[str]) -> None:
    from cpo_simulator import CpoSimulator

    parser = argparse.ArgumentParser(prog="python -m bench.loadgen setup")
    parser.add_argument("--versions-url", required=True)
    parser.add_argument("--locations", type=int, default=500)
    args = parser.parse_args(argv)
    with CpoSimulator(location_count=args.locations, party_id="SIM", country_code="NL") as sim:
        answer = sim.register_with(args.versions_url, os.environ["OCPI_TOKEN_A"])
        if not sim.registered:
            raise SystemExit(f"registration failed: {answer.status_code} {sim.last_error}")
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(lambda i: sim.push_location(i).status_code, range(args.locations))
            )
        if set(statuses) - {200, 201}:
            raise SystemExit(f"location PUTs answered {sorted(set(statuses))}")
        evses = [
            [location["id"], evse["uid"]]
            for location in map(sim.location, range(args.locations))
            for evse in location["evses"]
        ]
        print(
            json.dumps(
                {
                    "token": sim.emsp_token,
                    "locations_url": sim.emsp_endpoints["locations"],
                    "country_code": sim.country_code,
                    "party_id": sim.party_id,
                    "evses": evses,
                }
            )
        )


class Target:
    """Builds the raw PATCH requests. `--target` is JSON: `url` up to the party segments
    (`.../locations/NL/SIM`), `evses` as [location id, EVSE uid] pairs, and `token` for our OCPI
    path (none for the bare view). Our party for the routing headers comes from the same
    environment variables our app reads."""

    def __init__(self, args: argparse.Namespace) -> None:
        config = json.loads(args.target)
        url = urlsplit(config["url"])
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.path = url.path.rstrip("/")
        self.evses: list[list[str]] = config["evses"]
        token = config.get("token")
        self.head = [f"Host: {self.host}:{self.port}", "Content-Type: application/json"]
        if token:
            encoded = base64.b64encode(token.encode()).decode()
            self.head.append(f"Authorization: Token {encoded}")
            self.head += [
                "OCPI-from-country-code: NL",
                "OCPI-from-party-id: SIM",
                f"OCPI-to-country-code: {os.environ.get('OCPI_COUNTRY_CODE', 'DE')}",
                f"OCPI-to-party-id: {os.environ.get('OCPI_PARTY_ID', 'CPY')}",
            ]
        self.stamp_ms = args.stamp_base_ms
        self.sent = 0

    def next_request(self) -> bytes:
        location, evse = self.evses[self.sent % len(self.evses)]
        status = STATUSES[(self.sent // len(self.evses)) % len(STATUSES)]
        self.sent += 1
        self.stamp_ms += 1
        stamp = datetime.fromtimestamp(self.stamp_ms / 1000, UTC).isoformat(timespec="milliseconds")
        body = b'{"status": "%s", "last_updated": "%s"}' % (
            status,
            stamp.replace("+00:00", "Z").encode(),
        )
        head = [
            f"PATCH {self.path}/{location}/{evse} HTTP/1.1",
            *self.head,
            f"X-Request-ID: {uuid4()}",
            f"X-Correlation-ID: {uuid4()}",
            f"Content-Length: {len(body)}",
        ]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Connection:
    """One keep-alive connection, reopened whenever the server closes it (gunicorn's sync
    workers close after every answer)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> bool:
        """Send one request, read its answer; True if it was HTTP 200 with OCPI 1000."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.target.host, self.target.port
            )
        assert self.reader is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, _, rest = head.partition(b"\r\n")
        length, close = None, False
        for line in rest.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length is None:  # no length: the body ends when the server closes
            body, close = await self.reader.read(), True
        else:
            body = await self.reader.readexactly(length) if length else b""
        if close or status_line.startswith(b"HTTP/1.0"):
            self.close()
        return status_line.split(b" ", 2)[1:2] == [b"200"] and b'"status_code": 1000' in body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def closed(
    target: Target, *, concurrency: int, warmup: float, duration: float
) -> dict[str, Any]:
    start = time.perf_counter()
    measure_from, measure_to = start + warmup, start + warmup + duration
    latencies: list[float] = []
    failures = errors = 0

    async def loop() -> None:
        nonlocal failures, errors
        connection = Connection(target)
        while (now := time.perf_counter()) < measure_to:
            try:
                ok = await connection.exchange(target.next_request())
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                connection.close()
                errors += 1
                continue
            done = time.perf_counter()
            if measure_from <= now and done <= measure_to:
                latencies.append(done - now)
                failures += not ok
        connection.close()

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return {
        "requests": len(latencies),
        "rps": len(latencies) / duration,
        "not_ok": failures,
        "errors": errors,
        **latency_percentiles(latencies),
    }


async def open_loop(
    target: Target, *, rate: float, warmup: float, duration: float, stop: asyncio.Event
) -> dict[str, Any]:
    """Requests scheduled in the first `warmup` seconds warm the server up and are not counted;
    "measuring" is printed when counting starts."""
    start = time.perf_counter()
    measure_from = start + warmup
    latencies: list[float] = []
    failures = errors = 0
    tasks: set[asyncio.Task[None]] = set()

    async def one(scheduled: float) -> None:
        nonlocal failures, errors
        connection = Connection(target)
        counted = scheduled >= measure_from
        try:
            ok = await connection.exchange(target.next_request())
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            errors += counted
            return
        finally:
            connection.close()
        if counted:
            latencies.append(time.perf_counter() - scheduled)
            failures += not ok

    number, announced = 0, False
    while not stop.is_set():
        scheduled = start + number / rate
        if scheduled > measure_from + duration:
            break
        if not announced and scheduled >= measure_from:
            print(json.dumps({"measuring": True}), flush=True)
            announced = True
        delay = scheduled - time.perf_counter()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
                break
            except TimeoutError:
                pass
        task = asyncio.create_task(one(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        number += 1
    elapsed = time.perf_counter() - max(start, measure_from)
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    return {
        "requests": len(latencies),
        "scheduled": number,
        "seconds": elapsed,
        "rps": len(latencies) / elapsed if elapsed > 0 else 0,
        "not_ok": failures,
        "errors": errors,
        **latency_percentiles(latencies),
    }


def load(mode: str, argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m bench.loadgen {mode}")
    parser.add_argument("--target", required=True, help='JSON: {"url", "token"?, "evses"}')
    parser.add_argument("--stamp-base-ms", type=int, required=True)
    parser.add_argument("--duration", type=float, default=8)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=100)
    args = parser.parse_args(argv)
    target = Target(args)

    async def main() -> dict[str, Any]:
        if mode == "closed":
            return await closed(
                target, concurrency=args.concurrency, warmup=args.warmup, duration=args.duration
            )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        return await open_loop(
            target, rate=args.rate, warmup=args.warmup, duration=args.duration, stop=stop
        )

    result = asyncio.run(main())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result |= {
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "last_stamp_ms": target.stamp_ms,
        "sent": target.sent,  # warm-up included: what the server's CPU was spent on
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    mode, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if mode == "setup":
        setup(rest)
    elif mode in ("closed", "open"):
        load(mode, rest)
    else:
        raise SystemExit("usage: python -m bench.loadgen setup|closed|open ...")
