"""On PostgreSQL a statement a connection runs again and again (an EVSE status push, the token
check before it) is prepared, so the server plans it once a connection rather than once a
request; `?server_side_binding=false` in DATABASE_URL goes back to client-side binding, for a
connection pooler that cannot keep prepared statements."""

import json

import pytest
from django.db import connection

from tests.support.production import manage, production_env

STATEMENT = "SELECT COUNT(*) FROM ocpi_peer_partner WHERE name = %s"


def _prepared() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_statement_run_again_is_planned_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute(STATEMENT, ["once"])
    assert not any("ocpi_peer_partner WHERE name" in s for s in _prepared())

    with connection.cursor() as cursor:
        for number in range(6):
            cursor.execute(STATEMENT, [f"partner {number}"])
            assert cursor.fetchone() == (0,)

    assert "SELECT COUNT(*) FROM ocpi_peer_partner WHERE name = $1" in _prepared()


def _options(database_url: str) -> dict[str, object]:
    code = "from django.conf import settings; import json; "
    code += "print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
    done = manage("shell", "-v", "0", "-c", code, env=production_env(DATABASE_URL=database_url))
    assert done.returncode == 0, done.stderr
    options: dict[str, object] = json.loads(done.stdout)
    return options


def test_binding_in_the_client_when_the_url_says_so() -> None:
    url = "postgres://chargepay:secret@db.example.com:5432/chargepay"
    assert _options(url) == {"server_side_binding": True, "prepare_threshold": 5}
    assert _options(url + "?server_side_binding=false")["server_side_binding"] is False
