"""Tasks enqueued by name once the transaction commits (as Zulip's `queue_event_on_commit`).

Services sit below `payments.tasks` (the tasks call them), so a service that needs work done
after its transaction names the task instead of importing it: no import cycle, and the rule
"no service imports tasks" can be checked. The name is looked up in the Celery app's registry
when the work is enqueued, so an unknown name fails there and then (not silently on a broker),
and the task's own `delay` runs it, which honours `task_always_eager` in tests."""

from __future__ import annotations

import threading
from functools import partial

from celery import Task, current_app
from django.db import transaction

_DISCOVERING = threading.Lock()


def registered_task(name: str) -> Task:
    """The task registered under `name` (as `payments.tasks.release_hold`). A web process or a
    test may not have imported the tasks modules yet: they are loaded as a worker finds them
    (every installed app's `tasks`) before a name counts as unknown."""
    app = current_app._get_current_object()
    if name not in app.tasks:
        with _DISCOVERING:  # one thread loads them; the others wait for it, not half of it
            if name not in app.tasks:
                app.autodiscover_tasks(force=True)
    try:
        return app.tasks[name]
    except KeyError:
        raise LookupError(f"no Celery task is registered as {name!r}") from None


def enqueue_on_commit(name: str, *args: int | str) -> None:
    """Run the task `name` with `args` after the current transaction commits (at once when
    there is none): a rolled-back write sends nothing, and a worker never reads a row that is
    not committed yet."""
    transaction.on_commit(partial(registered_task(name).delay, *args))
