"""The simulator's worker threads (session runners, command follow-ups) and the flag that stops
them: what every module that acts later, rather than in its answer, shares."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Job = Callable[[], None]

# Per request thread: jobs to start once the answer is written (see `Workers.defer`).
_after_answer = threading.local()


class Workers:
    """Daemon threads that `stop()` waits for (briefly), and `stopping`, which they watch."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def spawn(self, job: Job, name: str) -> None:
        """Run `job` on a daemon worker thread; nothing once the simulator is stopping."""
        if self.stopping.is_set():
            return
        worker = threading.Thread(target=job, name=f"cpo-simulator-{name}", daemon=True)
        with self._lock:
            self._threads = [w for w in self._threads if w.is_alive()]
            self._threads.append(worker)
        worker.start()

    def defer(self, job: Job, name: str) -> None:
        """Start `job` once the answer being written on this thread has been sent (a command's
        result must not overtake its CommandResponse); at once outside a request."""
        pending: list[tuple[Workers, Job, str]] | None = getattr(_after_answer, "jobs", None)
        if pending is None:
            self.spawn(job, name)
        else:
            pending.append((self, job, name))

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Around the answer to one request: the jobs it deferred start when it is done, even
        when the client is gone by then (it timed out: the CPO carries on regardless). Each job
        runs on the `Workers` that deferred it, which need not be the one answering: a hub's
        front answers, the party behind it owns the job and waits for it when stopped."""
        _after_answer.jobs = []
        try:
            yield
        finally:
            jobs, _after_answer.jobs = _after_answer.jobs, None
            for workers, job, name in jobs:
                workers.spawn(job, name)

    def take(self) -> list[threading.Thread]:
        """Every thread started so far, forgotten here: the caller joins them."""
        with self._lock:
            threads, self._threads = self._threads, []
        return threads
