"""The Celery app: settings come from Django's (`CELERY_*`), tasks from each app's `tasks.py`.
Every task is a `PatientTask`: on the embedded SQLite a write can meet another process's lock."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery, Task
from celery.exceptions import Ignore
from django.db import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)

# A task that met a locked database runs again after 1, 2, 4 … s, at most a minute apart, this
# many times (about a quarter of an hour in all) before it fails like any other error.
LOCKED_RETRIES = 20
LOCKED_HEADER = "database_locked"


def locked_backoff(attempt: int) -> int:
    return int(min(2**attempt, 60))


def database_locked(error: BaseException) -> bool:
    """SQLite's "database is locked" (or "… table is locked"): the lock another process held
    longer than our busy timeout. PostgreSQL waits for row locks instead and never says it."""
    return isinstance(error, OperationalError) and "is locked" in str(error)


class PatientTask(Task):  # type: ignore[misc]
    """Runs the task again later when SQLite says "database is locked", so that no job is lost
    to a busy moment (a worker, the web server and beat share one file on the embedded
    default): the same arguments, sent again with a countdown. Tasks are idempotent, and the
    write that met the lock was rolled back with its transaction.

    The attempt is counted in a header of its own, not in `request.retries`, which some tasks
    read to decide whether a command may be sent again (`payments.tasks.start_charging`)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except OperationalError as error:
            request = self.request
            if not database_locked(error) or request.called_directly or request.is_eager:
                raise
            attempt = int(getattr(request, LOCKED_HEADER, None) or 0)
            if attempt >= LOCKED_RETRIES:
                raise
            countdown = locked_backoff(attempt)
            logger.warning(
                "%s met a locked database; runs again in %s s (attempt %s of %s)",
                self.name,
                countdown,
                attempt + 1,
                LOCKED_RETRIES,
            )
            self.apply_async(
                args=args,
                kwargs=kwargs,
                countdown=countdown,
                headers={LOCKED_HEADER: attempt + 1},
                retries=request.retries,
            )
            raise Ignore() from error


app = Celery("chargepay", task_cls=PatientTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
