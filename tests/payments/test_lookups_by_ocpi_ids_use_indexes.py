"""A CPO's Session, CDR or authorization request names our checkout by its authorization
reference or token, matched case-insensitively (CiString): on a year's checkouts that lookup
must go through an index, not read the whole table. The planner is told to avoid sequential
scans, so an empty table shows which index it would use on a full one. PostgreSQL only: SQLite
matches case-insensitively with LIKE, which no index serves."""

import pytest
from django.db import connection

from payments.models import Checkout, DriverToken

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture(autouse=True)
def planner_avoiding_sequential_scans() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("expression indexes on UPPER() serve PostgreSQL's case-insensitive match")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")


def test_it_finds_a_checkout_by_its_authorization_reference_through_an_index() -> None:
    plan = Checkout.objects.filter(partner_id=1, authorization_reference__iexact="aB-1").explain()
    assert "checkout_auth_ref_upper" in plan


def test_it_finds_a_driver_token_by_uid_or_auth_id_through_an_index() -> None:
    assert "drivertoken_uid_upper" in DriverToken.objects.filter(uid__iexact="x1").explain()
    assert "drivertoken_auth_id_upper" in DriverToken.objects.filter(auth_id__iexact="x").explain()
