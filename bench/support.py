"""What every benchmark needs: a scratch database, our app under gunicorn, the CPO simulator as a
process, workers that print one JSON line, time budgets, and the table of figures.

Everything listens on 127.0.0.1 and is stopped (and the scratch database dropped) on the way out,
also when a benchmark fails or runs out of time."""

from __future__ import annotations

import base64
import json
import os
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
MANAGE = str(ROOT / "manage.py")
PYTHON = sys.executable
T = TypeVar("T")


class BenchError(Exception):
    """A benchmark could not be run to the end (a process failed, a deadline passed)."""


# --- figures ---------------------------------------------------------------------------------


@dataclass
class Figure:
    bench: str
    name: str
    value: float | None
    unit: str
    target: str = ""
    ok: bool | None = None  # None: no target, or not measured
    note: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "-"
        if abs(self.value) >= 100 or float(self.value).is_integer():
            return f"{self.value:,.0f} {self.unit}".strip()
        return f"{self.value:,.2f} {self.unit}".strip()


def print_table(figures: Sequence[Figure], out: IO[str] = sys.stdout) -> None:
    rows = [("bench", "figure", "value", "target", "", "note")]
    for f in figures:
        verdict = "" if f.ok is None else ("ok" if f.ok else "MISSED")
        rows.append((f.bench, f.name, f.shown(), f.target, verdict, f.note))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for number, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) if i != 2 else row[i].rjust(widths[i]) for i in range(5)]
        out.write("  ".join(cells) + ("  " + row[5] if row[5] else "") + "\n")
        if number == 0:
            out.write("  ".join("-" * w for w in widths) + "\n")
    out.flush()


def say(message: str) -> None:
    """Progress on stderr, so stdout keeps only the table."""
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


# --- time ------------------------------------------------------------------------------------


class Budget:
    """A deadline for one benchmark; every wait below it is bounded by what is left."""

    def __init__(self, seconds: float, what: str) -> None:
        self.deadline = time.monotonic() + seconds
        self.what = what

    def remaining(self, at_most: float | None = None) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise BenchError(f"{self.what}: time budget used up")
        return left if at_most is None else min(left, at_most)


def wait_until(condition: Callable[[], T], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- processes -------------------------------------------------------------------------------

_started: list[subprocess.Popen[bytes]] = []


def start(args: Sequence[str], env: dict[str, str], **popen: Any) -> subprocess.Popen[bytes]:
    """A child process in the repository, remembered so that `stop_all` can end it."""
    process = subprocess.Popen(list(args), env=env, cwd=ROOT, **popen)
    _started.append(process)
    return process


def stop(process: subprocess.Popen[bytes], *, timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process in _started:
        _started.remove(process)


def stop_all() -> None:
    for process in list(_started):
        stop(process, timeout=5)


def run_json(args: Sequence[str], env: dict[str, str], *, timeout: float, what: str) -> Any:
    """Run a worker to its end and read the JSON line it prints last."""
    process = start(args, env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        raise BenchError(f"{what}: no result within {timeout:.0f} s") from None
    finally:
        if process in _started:
            _started.remove(process)
    lines = stdout.decode().strip().splitlines()
    if process.returncode != 0 or not lines:
        tail = stderr.decode(errors="replace").strip().splitlines()[-15:]
        raise BenchError(f"{what} failed (exit {process.returncode}):\n  " + "\n  ".join(tail))
    return json.loads(lines[-1])


def read_line(process: subprocess.Popen[bytes], *, timeout: float, what: str) -> bytes:
    """One line from a child's stdout, or BenchError after `timeout` instead of hanging."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    line = b""
    while not line.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BenchError(f"{what}: no output within {timeout:.0f} s")
        if selector.select(remaining):
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                raise BenchError(f"{what} exited ({process.wait()})")
            line += chunk
    return line


# --- environment and database ----------------------------------------------------------------


def app_env(database_url: str, public_base_url: str = "http://127.0.0.1:8000") -> dict[str, str]:
    """What our app runs with here: production-like (DEBUG off, so Django keeps no query log,
    with fresh secrets and Stripe test keys of the shape production needs, but plain http on
    loopback, where the simulated CPO is let through the outbound guard), an in-memory broker
    (nothing is enqueued on these paths, and nothing lands in var/), and only warnings logged."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "DEBUG": "False",
            "SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
            "FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "CELERY_BROKER_URL": "memory://",
            "PUBLIC_BASE_URL": public_base_url,
            "SECURE_SSL_REDIRECT": "false",
            "OCPI_ALLOW_PRIVATE_URLS": "true",  # a lab: the simulated CPO listens on loopback
            "STRIPE_SECRET_KEY": "sk_test_bench" + secrets.token_hex(16),
            "STRIPE_PUBLISHABLE_KEY": "pk_test_bench" + secrets.token_hex(16),
            "STRIPE_WEBHOOK_SECRET": "whsec_bench" + secrets.token_hex(16),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@dataclass
class Database:
    url: str
    description: str
    postgres: bool


LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database(
    *, require_postgres: bool, name: str = "chargepay_bench"
) -> Iterator[Database]:
    """A fresh database, migrated, dropped afterwards.

    With DATABASE_URL pointing at PostgreSQL: a scratch database `<its name>_bench` on that
    server (never the database itself). Without it: a SQLite file in a temporary directory, or,
    when PostgreSQL is required, `chargepay_bench` on 127.0.0.1:5432 as user postgres."""
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith(("postgres://", "postgresql://", "pgsql://")):
        server, _, options = configured.partition("?")  # options such as conn_max_age stay
        scratch = (urlsplit(server).path.lstrip("/") or "chargepay") + "_bench"
        described = f"PostgreSQL (scratch database {scratch} on DATABASE_URL's server)"
        with _postgres_database(server, scratch) as url:
            yield Database(f"{url}?{options}" if options else url, described, True)
    elif require_postgres:
        why = "is not PostgreSQL" if configured else "is not set"
        say(f"DATABASE_URL {why}: creating the scratch database {name} on 127.0.0.1:5432")
        with _postgres_database(LOCAL_POSTGRES, name) as url:
            yield Database(url, f"PostgreSQL (scratch database {name} on 127.0.0.1:5432)", True)
    else:
        with tempfile.TemporaryDirectory(prefix="chargepay-bench-") as directory:
            url = f"sqlite:///{directory}/bench.sqlite3"
            _migrate(url)
            yield Database(url, "SQLite (throwaway file; set DATABASE_URL for PostgreSQL)", False)


@contextmanager
def _postgres_database(server_url: str, database: str) -> Iterator[str]:
    import psycopg
    from psycopg import sql

    parts = urlsplit(server_url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    url = urlunsplit(parts._replace(path=f"/{database}"))
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
    try:
        with psycopg.connect(_libpq(admin), autocommit=True) as connection:
            connection.execute(drop)
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    except psycopg.Error as exc:
        raise BenchError(f"cannot create the scratch database {database}: {exc}") from exc
    try:
        _migrate(url)
        yield url
    finally:
        with psycopg.connect(_libpq(admin), autocommit=True) as connection:
            connection.execute(drop)


def _libpq(url: str) -> str:
    return url.replace("pgsql://", "postgresql://", 1).replace("postgres://", "postgresql://", 1)


def _migrate(url: str) -> None:
    result = subprocess.run(
        [PYTHON, MANAGE, "migrate", "--noinput"],
        env=app_env(url),
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise BenchError("migrate failed:\n" + result.stderr.decode(errors="replace")[-2000:])


def with_query(url: str, **params: str) -> str:
    """`url` with extra query parameters (e.g. conn_max_age for django-environ)."""
    extra = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{extra}"


# --- our app and the simulator ---------------------------------------------------------------


@contextmanager
def gunicorn(
    env: dict[str, str],
    *,
    workers: int = 2,
    worker_class: str = "sync",
    threads: int = 1,
    settings: str | None = None,
    ready_path: str = "/healthz",
    public_url: str | None = None,
) -> Iterator[str]:
    """Our app (or, with `settings`, a variant of it) under gunicorn on a free port; yields its
    base URL once `ready_path` answers. It publishes its own URL, or `public_url` when it is a
    second instance behind the same name."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    child_env = {**env, "PUBLIC_BASE_URL": public_url or base_url}
    if settings:
        child_env["DJANGO_SETTINGS_MODULE"] = settings
    args = [
        PYTHON, "-m", "gunicorn", "config.wsgi:application",
        "--chdir", str(ROOT),
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--worker-class", worker_class,
        "--threads", str(threads),
        "--backlog", "2048",
        "--log-level", "warning",
    ]  # fmt: skip
    process = start(args, child_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _gunicorn_pids[base_url] = process.pid

    def ready() -> bool:
        if process.poll() is not None:
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise BenchError(f"gunicorn exited ({process.returncode}):\n{err[-2000:]}")
        try:
            return httpx.get(base_url + ready_path, timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, timeout=60, what="gunicorn start")
        if process.stderr is not None:  # drain it from now on, so a chatty worker never blocks
            _drain(process.stderr)
        yield base_url
    finally:
        _gunicorn_pids.pop(base_url, None)
        stop(process)


_gunicorn_pids: dict[str, int] = {}


def server_cpu_seconds(base_url: str) -> float:
    """CPU seconds (user and system) that the gunicorn serving `base_url` and its workers have
    used so far: our CPU, which other processes' load skews less than requests per second.
    Linux only; 0 where /proc cannot tell."""
    pid = _gunicorn_pids.get(base_url)
    return 0.0 if pid is None else tree_cpu_seconds(pid)


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its children (a pool's workers), from /proc."""
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            pids += [int(child) for child in children.read().split()]
    except OSError:
        pass
    return sum(cpu_seconds(one) or 0.0 for one in pids)


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of one process from /proc; None when it is gone or not on this machine."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _drain(stream: IO[bytes]) -> None:
    """Read a child's stderr to its end, passing on tracebacks only."""

    def run() -> None:
        for line in iter(stream.readline, b""):
            if b"Traceback" in line or b"Error" in line:
                sys.stderr.write("[gunicorn] " + line.decode(errors="replace"))

    threading.Thread(target=run, daemon=True).start()


@contextmanager
def simulator(
    env: dict[str, str],
    *,
    locations: int,
    page_size: int,
    party_id: str,
    latency: float = 0.0,
) -> Iterator[dict[str, str]]:
    """`manage.py simulate_cpo` in its own process; yields its JSON line (versions_url,
    token_a, base_url)."""
    args = [
        PYTHON, MANAGE, "simulate_cpo",
        "--host", "127.0.0.1",
        "--port", "0",
        "--locations", str(locations),
        "--page-size", str(page_size),
        "--party-id", party_id,
        "--country-code", "NL",
        "--latency", str(latency),
    ]  # fmt: skip
    process = start(args, env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        line = json.loads(read_line(process, timeout=60, what="simulate_cpo"))
        yield line
    finally:
        stop(process)


@contextmanager
def redis_database(number: int) -> Iterator[str]:
    """Database `number` of the Redis on 127.0.0.1:6379, which must be empty (someone else's
    otherwise), flushed afterwards; yields its URL."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, db=number, socket_timeout=5)
    try:
        if client.dbsize():
            raise BenchError(f"Redis database {number} is not empty: someone else uses it")
    except redis.RedisError as exc:
        raise BenchError(f"Redis on 127.0.0.1:6379: {exc}") from exc
    try:
        yield f"redis://127.0.0.1:6379/{number}"
    finally:
        with suppress(redis.RedisError):
            client.flushdb()
        client.close()


# --- memory ----------------------------------------------------------------------------------


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise BenchError(f"no {field} in /proc/self/status")


def rss_mib() -> float:
    return _status_kib("VmRSS") / 1024


def peak_rss_mib() -> float:
    return _status_kib("VmHWM") / 1024


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def quantile(values: Sequence[float], q: float) -> float:
    """The value at quantile `q` of `values` (nearest rank, rounding down), as every benchmark
    here reports it."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latency_percentiles(latencies: Sequence[float]) -> dict[str, float | None]:
    """Latencies in seconds as p50/p90/p95/p99/max in ms; None each when there are none."""
    keys = {"p50_ms": 0.5, "p90_ms": 0.9, "p95_ms": 0.95, "p99_ms": 0.99, "max_ms": 1.0}
    if not latencies:
        return dict.fromkeys(keys)
    return {key: quantile(latencies, q) * 1000 for key, q in keys.items()}
