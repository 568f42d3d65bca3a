"""On the embedded default (one SQLite file shared by web, worker and beat) a task can meet a
database locked by another process for longer than the busy timeout. It runs again later
(`config.celery.PatientTask`) instead of being lost: here the demo's worker (prefork, two
processes, the file broker) gets several tasks at once while another process holds the write
lock, and every one of them is done."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from payments.models import Checkout, Deadline
from tests.payments.charger import charger

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[1]
TASKS = 6

ENQUEUE = """
import sys, django
django.setup()
from payments.tasks import handle_deadline
for pk in sys.argv[1:]:
    handle_deadline.delay(int(pk))
"""


def unpaid_checkouts(count: int) -> list[int]:
    """Unpaid checkouts whose claim ran out: each deadline's task expires its checkout."""
    evse = charger()
    connector = evse.connectors.get()
    past = timezone.now() - timezone.timedelta(minutes=1)
    deadlines = []
    for _ in range(count):
        checkout = Checkout.objects.create(
            partner=evse.location.partner,
            evse=evse,
            connector=connector,
            currency="EUR",
            hold_amount=Decimal("50.00"),
        )
        deadlines.append(
            Deadline.objects.create(checkout=checkout, kind=Deadline.Kind.UNPAID, due_at=past).pk
        )
    return deadlines


def wait_until(check: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds:.0f} s: {what}")


def test_it_loses_no_task_while_another_process_holds_the_database(tmp_path: Path) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the embedded default's lock: PostgreSQL waits for row locks instead")
    deadlines = unpaid_checkouts(TASKS)
    database = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # A short busy timeout, so that the lock held below outlasts it at once.
        "DATABASE_URL": f"sqlite:///{database}?timeout=1",
        "CELERY_BROKER_URL": f"filesystem://{tmp_path / 'broker'}",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "warning", "-c", "2"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    holder = sqlite3.connect(database, timeout=30, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long transaction holds it
        subprocess.run(
            [sys.executable, "-c", ENQUEUE, *map(str, deadlines)],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
        wait_until(
            lambda: "(attempt 2 of" in log.read_text(),  # met it, and again after a while
            120,
            f"a task meets the lock twice; worker log:\n{log.read_text()}",
        )
        holder.execute("COMMIT")
        wait_until(
            lambda: Deadline.objects.filter(pk__in=deadlines, done_at=None).count() == 0,
            120,
            f"all {TASKS} tasks done; worker log:\n{log.read_text()}",
        )
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    statuses = set(Checkout.objects.values_list("status", flat=True))
    assert statuses == {Checkout.Status.EXPIRED}
