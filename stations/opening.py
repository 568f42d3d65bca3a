"""Whether a location is open at a moment, by its OCPI `opening_times` (Hours), and when it opens.

Hours are read as OCPI says (mod_locations, Hours): `twentyfourseven`, else `regular_hours`
(weekday 1 = Monday … 7 = Sunday, `period_begin`/`period_end` as "HH:MM" in the location's local
time; an end at or before the begin runs past midnight, "24:00" is the day's end), plus
`exceptional_openings` that open it and `exceptional_closings` that close it (those win), both
as UTC timestamps. No `opening_times` means always open. Local time is the Location's zone,
else its country's single zone (`stations.tariffs.zone_for`); without one, regular hours cannot
be read and `closed` says so rather than guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dateparse import parse_datetime

from stations.models import Location
from stations.tariffs import zone_for

_LOOK_AHEAD_DAYS = 8  # a week of regular hours and a day more


@dataclass(frozen=True, slots=True)
class Closed:
    """The location is closed at the moment asked. `opens` is when it opens next (in the
    location's zone), None when that is not within a week or cannot be known; `clock_unknown`
    when its regular hours need a local time we do not have."""

    opens: datetime | None
    clock_unknown: bool = False


def closed(location: Location, at: datetime) -> Closed | None:
    """None when the location is open at `at` (or states no opening times); else `Closed`."""
    hours = location.opening_times
    if not isinstance(hours, Mapping) or not hours:
        return None
    zone_name = zone_for(location)
    needs_clock = not hours.get("twentyfourseven") and bool(hours.get("regular_hours"))
    if needs_clock and zone_name is None:
        return Closed(opens=None, clock_unknown=True)
    zone = ZoneInfo(zone_name) if zone_name else UTC
    if _open(hours, at, zone):
        return None
    return Closed(opens=_next_opening(hours, at, zone))


def _open(hours: Mapping[str, Any], at: datetime, zone: ZoneInfo | Any) -> bool:
    if any(begin <= at < end for begin, end in _periods(hours.get("exceptional_closings"))):
        return False
    if hours.get("twentyfourseven"):
        return True
    if any(begin <= at < end for begin, end in _periods(hours.get("exceptional_openings"))):
        return True
    return any(begin <= at < end for begin, end in _regular(hours, at, zone))


def _next_opening(hours: Mapping[str, Any], at: datetime, zone: ZoneInfo | Any) -> datetime | None:
    """The first moment after `at` at which the location is open: every moment where that can
    change (a period's begin, a closing's end), in order."""
    candidates = {end for _begin, end in _periods(hours.get("exceptional_closings"))}
    candidates |= {begin for begin, _end in _periods(hours.get("exceptional_openings"))}
    if hours.get("twentyfourseven"):
        candidates.add(at)
    candidates |= {begin for begin, _end in _regular(hours, at, zone)}
    for moment in sorted(c for c in candidates if c > at):
        if _open(hours, moment, zone):
            return moment.astimezone(zone)
    return None


def _periods(items: Any) -> Iterator[tuple[datetime, datetime]]:
    """Exceptional periods as aware datetimes; an unreadable one is skipped."""
    for item in items if isinstance(items, Iterable) else ():
        if not isinstance(item, Mapping):
            continue
        begin, end = _moment(item.get("period_begin")), _moment(item.get("period_end"))
        if begin is not None and end is not None:
            yield begin, end


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        parsed: datetime | None = value
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value)
        except ValueError:
            return None
    else:
        return None
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # OCPI timestamps are UTC
    return parsed


def _clock(value: Any) -> time | str | None:
    """A "HH:MM" as a time, "24:00" as the string "end"; None when unreadable."""
    if value == "24:00":
        return "end"
    try:
        return time.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _regular(
    hours: Mapping[str, Any], at: datetime, zone: ZoneInfo | Any
) -> Iterator[tuple[datetime, datetime]]:
    """The regular periods from the day before `at` to a week after it, as aware moments."""
    items = hours.get("regular_hours")
    if hours.get("twentyfourseven") or not isinstance(items, Iterable):
        return
    first = at.astimezone(zone).date() - timedelta(days=1)
    for offset in range(_LOOK_AHEAD_DAYS + 1):
        day = first + timedelta(days=offset)
        for item in items:
            if not isinstance(item, Mapping) or item.get("weekday") != day.isoweekday():
                continue
            begin, end = _clock(item.get("period_begin")), _clock(item.get("period_end"))
            if not isinstance(begin, time) or end is None:
                continue
            start = datetime.combine(day, begin, tzinfo=zone)
            if end == "end" or (isinstance(end, time) and end <= begin):
                stop_day = day + timedelta(days=1)
                stop = datetime.combine(
                    stop_day, end if isinstance(end, time) else time(0), tzinfo=zone
                )
            else:
                assert isinstance(end, time)
                stop = datetime.combine(day, end, tzinfo=zone)
            yield start, stop
