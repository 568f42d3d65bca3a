"""A persistent PostgreSQL connection is checked (`SELECT 1`) before a request uses it only when
it has been idle: one the server closed while it sat idle is replaced and the request served,
while one that answered the request before an instant ago is used as it is, a round trip less
for every request of a busy process. The check is the PostgreSQL backend's."""

from collections.abc import Iterator
from unittest import mock

import psycopg
import pytest
from django.core.signals import request_finished, request_started
from django.db import OperationalError, connections

from config.postgresql import base

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
connection = connections["default"]  # the wrapper itself, not the proxy


@pytest.fixture(autouse=True)
def persistent_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if connection.vendor != "postgresql":
        pytest.skip("the health check of persistent connections is PostgreSQL's")
    assert isinstance(connection, base.DatabaseWrapper)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.close()  # the next statement connects with these settings
    yield
    connection.close()


def _request() -> int:
    """What a request does with the connection: Django's signals around a statement. Answers
    the server process that ran it."""
    request_started.send(sender=None)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])
    finally:
        request_finished.send(sender=None)


def _close_on_the_server(pid: int) -> None:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_a_connection_closed_while_idle_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _request()
    assert _request() == first  # persistent
    monkeypatch.setattr(base, "PROVEN_FOR", 0.0)  # as if it had then been idle a while
    _close_on_the_server(first)

    replaced = _request()

    assert replaced != first


def test_a_busy_connection_is_used_without_the_extra_round_trip() -> None:
    first = _request()
    with mock.patch.object(connection, "is_usable", wraps=connection.is_usable) as check:
        assert [_request() for _ in range(5)] == [first] * 5
    assert check.call_count == 0


def test_a_connection_that_failed_is_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _request()
    _close_on_the_server(first)
    request_started.send(sender=None)
    try:
        with pytest.raises(OperationalError), connection.cursor() as cursor:
            cursor.execute("SELECT 1")  # found dead in the middle of a request
    finally:
        request_finished.send(sender=None)  # the error is noted: closed, not proven

    assert _request() != first
