"""A CPO on OCPI 2.3.0 that sees our checkout as a Payment Terminal: registered, its stations
pushed, our terminal created at its Payments Receiver and (unless a test says otherwise)
assigned by its PATCH to the location a driver pays at."""

from __future__ import annotations

from payments import tasks
from payments.models import Terminal
from tests.payments.charging import push_stations


def terminal_at(cpo, *, assign: bool = True) -> tuple[Terminal, str]:
    """Our terminal for the CPO's party, created at the CPO, and the first EVSE's id; with
    `assign` the CPO PATCHes its first location onto it."""
    evse_id = push_stations(cpo)
    tasks.provide_terminals()
    (posted,) = cpo.wait_for_terminals(1)
    terminal = Terminal.objects.get(terminal_id=posted["terminal_id"])
    if assign:
        answer = cpo.assign_terminal(terminal.terminal_id, location_ids=[cpo.location(0)["id"]])
        assert answer.json()["status_code"] == 1000, answer.text
        terminal.refresh_from_db()
    return terminal, evse_id
