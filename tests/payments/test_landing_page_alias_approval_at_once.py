"""Whether a charger whose ID names another operator may be paid for is read per process from
a cache of approved EVSE ID aliases, yet an operator's approval or withdrawal shows at the very
next page view: the aliases' trigger raises the `PRICES` generation in the same transaction.
The alias is written here in SQL, as another process would write it."""

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from stations.models import Evse
from tests.payments.charger import charger

pytestmark = pytest.mark.django_db

PAGE = "/charge/DE*XYZ*E1/"  # an ID naming DE*XYZ, published by DE*ABC


def page(client: Client) -> str:
    return client.get(PAGE, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, list(params))


def test_an_approval_and_its_withdrawal_show_at_the_next_view(
    client: Client, stripe_settings
) -> None:
    evse = charger()
    Evse.objects.filter(pk=evse.pk).update(evse_id="DE*XYZ*E1", lookup_key="DEXYZE1")
    assert "belongs to the operator DE*XYZ" in page(client)
    assert "belongs to the operator DE*XYZ" in page(client)  # warm
    sql(
        "INSERT INTO stations_evseidalias"
        " (country_code, party_id, operator_prefix, note, approved_by, approved_at)"
        " VALUES ('DE', 'ABC', 'DEXYZ', '', 'operator', %s)",
        timezone.now(),
    )
    html = page(client)
    assert "belongs to the operator" not in html and 'id="pay"' in html
    sql("DELETE FROM stations_evseidalias")
    html = page(client)
    assert "belongs to the operator DE*XYZ" in html and 'id="pay"' not in html
