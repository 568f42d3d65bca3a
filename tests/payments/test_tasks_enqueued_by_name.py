"""Services enqueue tasks by name: every name they use is a registered task, and an unknown
name fails where it is enqueued rather than on a broker."""

import re
from pathlib import Path

import pytest

import payments
from payments import tasks
from payments.queue import enqueue_on_commit, registered_task

NAMED = re.compile(r'enqueue_on_commit\(\s*"([\w.]+)"')


def names_used() -> set[str]:
    package = Path(payments.__file__).parent
    return {name for path in package.rglob("*.py") for name in NAMED.findall(path.read_text())}


def test_every_name_a_service_enqueues_is_a_task() -> None:
    assert len(names_used()) >= 10
    for name in names_used():
        assert registered_task(name).name == name
        assert getattr(tasks, name.rsplit(".", 1)[1]).name == name


def test_an_unknown_name_fails_where_it_is_enqueued() -> None:
    with pytest.raises(LookupError, match=r"payments\.tasks\.no_such_task"):
        enqueue_on_commit("payments.tasks.no_such_task", 1)
