"""The same CDR settled by several workers at the same moment (a duplicate task, a
redelivery racing the first delivery) captures once, books once, and bothers no operator.
Row locks need PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from payments import tasks
from payments.models import Case, Cdr
from tests.payments.charging import reaches
from tests.payments.settling import cdr_for, finished_session, minor

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks (select_for_update) need PostgreSQL; SQLite ignores them")


def test_four_workers_settling_one_cdr_capture_once(
    connected_cpo, live_server, stripe_settings, eager_tasks, monkeypatch
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    total = session.total_cost_incl_vat
    with monkeypatch.context() as held_back:
        held_back.setattr(tasks.settle_cdr, "delay", lambda *args: None)
        cpo.call_us("POST", "cdrs", json=cdr_for(cpo, checkout, session, total_incl=total))
    cdr = Cdr.objects.get()

    def settle(_: int) -> str:
        try:
            return tasks.settle_cdr.apply(args=[cdr.pk]).result
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(settle, range(4)))
    assert "failed" not in outcomes, outcomes
    checkout = reaches(checkout, "settled")
    assert checkout.ledger.filter(kind="capture").count() == 1
    assert minor(checkout)["capture"] == int(total * 100)
    assert minor(checkout)["capture"] + minor(checkout)["release"] == minor(checkout)["hold"]
    assert checkout.ledger.filter(kind="payable").count() == 1
    assert not Case.objects.exists()
