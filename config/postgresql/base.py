"""Django's PostgreSQL backend, with its health check (CONN_HEALTH_CHECKS) skipped on a
connection that answered a request less than `PROVEN_FOR` seconds ago.

The check is a `SELECT 1` before the first statement of every request on a persistent
connection, so that one closed by the server while idle (a restart, an idle timeout, a
failover) is replaced rather than failing the request. On a busy web process the connection
answered the request before it an instant earlier, and the check was a round trip in three of
an EVSE status push. An idle connection is still checked; one that dies within a second of
answering fails the one request that finds it dead, as every connection does when the server
goes away in the middle of a request."""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

PROVEN_FOR = 1.0  # seconds


class DatabaseWrapper(base.DatabaseWrapper):
    proven_at = float("-inf")  # when a request last ended with this connection working

    def close_if_unusable_or_obsolete(self) -> None:
        # Called as each request starts and ends: a request that used the connection (its first
        # statement set health_check_done) and met no error proves it alive.
        worked = self.connection is not None and self.health_check_done and not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if worked and self.connection is not None:
            self.proven_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        if self.connection is not None and time.monotonic() - self.proven_at < PROVEN_FOR:
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
