"""The traffic log: one row per OCPI request in or out, for support staff and disputes. Bodies are
cut short and scrubbed of credentials tokens; no header but the ids is ever kept."""

from __future__ import annotations

import atexit
import contextvars
import logging
import os
import re
import threading
from typing import Any

from django.conf import settings
from django.db import connections, router
from django.utils import timezone

from ocpi_peer.models import Partner, TrafficLog

logger = logging.getLogger(__name__)

BODY_LIMIT = 4000
# A token's value to its closing quote, or to the end of a body cut short in the middle of it.
_TOKEN_VALUE = re.compile(rb'("token"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|\\?$)')

# The correlation id of the request being served, so that calls it causes carry it on (T-15).
correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ocpi_correlation_id", default=None
)


def scrub(body: bytes | None) -> str:
    if not body:
        return ""
    cleaned = _TOKEN_VALUE.sub(rb'\1"***"', body[: BODY_LIMIT * 2])
    # A NUL byte (never valid JSON, but it may be sent) is the one character PostgreSQL cannot
    # store: it would turn a refused request into a failed one.
    text = cleaned.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return text if len(text) <= BODY_LIMIT else text[:BODY_LIMIT] + "…"


def record_traffic(
    *,
    direction: str,
    partner: Partner | None,
    method: str,
    url: str,
    http_status: int | None,
    ocpi_status: int | None,
    duration_ms: int,
    request_id: str,
    correlation: str,
    request_body: bytes | None,
    response_body: bytes | None,
    error: str = "",
    later: bool = False,
) -> None:
    """One row, with the time it happened. Every OCPI request in and out writes one, so it is
    a hand-written INSERT (as `PartnerTokenQuerySet.find`): the ORM took 0.3 ms of CPU to build
    it. `later` (the requests we serve): written with others off the request's path by
    `buffer`, unless OCPI_TRAFFIC_LOG_BATCH is 1."""
    row = [
        timezone.now(),
        partner.pk if partner is not None and partner.pk else None,
        direction,
        method,
        url[:500],
        http_status,
        ocpi_status,
        duration_ms,
        request_id[:64],
        correlation[:64],
        scrub(request_body),
        scrub(response_body),
        error[:2000],
    ]
    if later and settings.OCPI_TRAFFIC_LOG_BATCH > 1:
        buffer.add(row)
    else:
        _insert([row])


def _insert(rows: list[list[Any]]) -> None:
    """`rows` in as few INSERTs as the database takes parameters for; a batch on PostgreSQL by
    COPY, which neither the client nor the server parses as a statement (a batch's INSERT, with
    thirteen parameters a row, cost more of our CPU to build than the rows themselves)."""
    connection = connections[router.db_for_write(TrafficLog)]
    if connection.vendor == "postgresql" and len(rows) > 1:
        with connection.cursor() as cursor, cursor.cursor.copy(_COPY) as copy:
            for row in rows:
                copy.write_row(row)
        return
    params = connection.features.max_query_params or 65_535  # PostgreSQL's: 65,535
    per_statement = max(1, min(len(rows), params // len(_COLUMNS)))
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = [value for row in chunk for value in [adapt(row[0]), *row[1:]]]
            cursor.execute(_INSERT + ", ".join([_VALUES] * len(chunk)), values)


_COLUMNS = (
    "created_at",
    "partner_id",
    "direction",
    "method",
    "url",
    "http_status",
    "ocpi_status",
    "duration_ms",
    "request_id",
    "correlation_id",
    "request_body",
    "response_body",
    "error",
)
_QUOTED = ", ".join(f'"{column}"' for column in _COLUMNS)
_INSERT = f"INSERT INTO {TrafficLog._meta.db_table} ({_QUOTED}) VALUES "  # noqa: S608
_VALUES = f"({', '.join(['%s'] * len(_COLUMNS))})"
_COPY = f"COPY {TrafficLog._meta.db_table} ({_QUOTED}) FROM STDIN"


IDLE_SECONDS = 10  # the writer closes its database connection when no row came for this long


class Buffer:
    """Rows of the requests we serve, written in batches by a thread of the process, off the
    requests' path: a status PATCH then costs no INSERT and no round trip of its own.

    Written when OCPI_TRAFFIC_LOG_BATCH rows wait or the oldest has waited
    OCPI_TRAFFIC_LOG_FLUSH_SECONDS, and at the process's exit (`atexit`: gunicorn's workers
    exit that way when stopped or restarted). Bounded: should the writer fall
    ten batches behind (a slow or unreachable database), the request that finds it so writes
    the rows itself, so memory stays bounded and the log complete. What a crash of the process
    loses is the rows waiting (at most a batch, or a second's worth); never a status, which its
    request wrote before answering."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # the rows
        self.writing = threading.Lock()  # one write at a time
        self.rows: list[list[Any]] = []
        self.wake = threading.Event()  # a first row waits
        self.full = threading.Event()  # a batch is full
        self.writer: threading.Thread | None = None
        self.pid = os.getpid()

    def add(self, row: list[Any]) -> None:
        batch = settings.OCPI_TRAFFIC_LOG_BATCH
        with self.lock:
            if self.pid != os.getpid():  # a forked child: the parent's rows and thread are not ours
                self.__init__()  # type: ignore[misc]
            self.rows.append(row)
            waiting = len(self.rows)
            if self.writer is None or not self.writer.is_alive():
                self.writer = threading.Thread(
                    target=self._write_on, name="traffic-log", daemon=True
                )
                self.writer.start()
        if waiting == 1:
            self.wake.set()
        if waiting >= 10 * batch:
            self.flush()
        elif waiting >= batch:
            self.full.set()

    def flush(self) -> int:
        """Writes what waits, now, in this thread, after any write under way (so that the
        flush at exit also waits for the writer's last batch); the number of rows written."""
        with self.writing:
            with self.lock:
                rows, self.rows = self.rows, []
            if not rows:
                return 0
            try:
                _insert(rows)
            except Exception:
                logger.exception("traffic log: %d rows could not be written", len(rows))
                connections[router.db_for_write(TrafficLog)].close()
                return 0
            return len(rows)

    def _write_on(self) -> None:
        """The writer thread: from a batch's first row, waits until the batch is full or the
        flush interval has passed, then writes it; idle while nothing waits."""
        connection = connections[router.db_for_write(TrafficLog)]
        while True:
            if not self.wake.wait(IDLE_SECONDS):
                connection.close()  # idle: hold no connection for nothing
                continue
            self.wake.clear()
            self.full.wait(settings.OCPI_TRAFFIC_LOG_FLUSH_SECONDS)
            self.full.clear()
            connection.close_if_unusable_or_obsolete()
            self.flush()


buffer = Buffer()
atexit.register(buffer.flush)


def status_code_of(body: Any) -> int | None:
    """The OCPI status of a parsed body, if it is an envelope."""
    code = body.get("status_code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None
