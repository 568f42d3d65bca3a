"""What a charger's page says of each connector and its price, kept per web process: pricing a
connector (its tariff's lines in the driver's language, the 20 kWh estimate, the hold) costs
more than the rest of the page's data together, and its inputs change far less often than
drivers look at it.

An entry is keyed by everything the description reads: the `PRICES` generation (raised by
triggers with every change to tariffs, CPO terms and EVSE ID aliases, in the transaction making
it: `ocpi_peer.generations`), the party, the connector's own fields and the location's time
zone and country (read per request, so a CPO's change to them is a new key), the language and
the energies estimated. The clock is the one input a key cannot hold: an entry is used only
from the moment it was priced at until `tariffs.shown_price_steady_until` (the next validity
bound of a tariff, the next change of a local-time restriction within a session's length), so
a price that depends on the time of day is never shown stale. What depends on the EVSE's
status, the operator's link and opening hours (whether it is payable now) is not kept here.

Entries are never handed out: callers get a fresh copy (`Described.fields`), so no request can
change what another one is shown. Settings the description reads (the default hold, VAT rates)
empty the cache when a test overrides them."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

MAX_ENTRIES = 10_000  # connectors × languages; past it, the cache starts over


@dataclass(frozen=True)
class Described:
    """A connector as the page describes it, before whether its EVSE is payable now."""

    fields_kept: dict[str, Any]  # never handed out: see `fields`
    not_payable_reason: str | None  # the price's own reason (no gross price, unpriceable)
    priced: bool  # a tariff applies, and it can be paid at
    hold_kept: dict[str, Any]  # hold, hold_minor, hold_text for when it is payable

    @property
    def fields(self) -> dict[str, Any]:
        """id, standard … tariff: a copy of its own for the caller."""
        return {name: _copy(value) for name, value in self.fields_kept.items()}

    @property
    def hold(self) -> dict[str, Any]:
        return dict(self.hold_kept)


_entries: dict[Hashable, tuple[datetime, datetime | None, Described]] = {}


def get(key: Hashable, *, at: datetime) -> Described | None:
    """The description kept under `key` if it holds at `at`."""
    entry = _entries.get(key)
    if entry is None:
        return None
    since, until, described = entry
    if at < since or (until is not None and at >= until):
        return None
    return described


def put(key: Hashable, described: Described, *, at: datetime, until: datetime | None) -> None:
    """Keep `described`, priced at `at`, for use until `until` (None: no clock bound)."""
    if until is not None and until <= at:
        return
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[key] = (at, until, described)


def forget() -> None:
    """Empties this process's cache (tests; never needed for correctness)."""
    _entries.clear()


@receiver(setting_changed)
def _setting_changed(**kwargs: Any) -> None:
    forget()


def _copy(value: Any) -> Any:
    """A copy of a JSON-like value: its dicts and lists new, its scalars (immutable) shared."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value] if isinstance(value, list) else tuple(map(_copy, value))
    return value
