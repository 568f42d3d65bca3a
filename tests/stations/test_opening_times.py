"""Whether a location is open, by its OCPI opening times read in its own time zone, and when it
opens next: what decides whether a driver may pay at a location that does not charge while
closed."""

from datetime import datetime
from zoneinfo import ZoneInfo

from stations.models import Location
from stations.opening import Closed, closed

BERLIN = ZoneInfo("Europe/Berlin")


def location(opening_times: dict | None, *, time_zone: str = "Europe/Berlin", country: str = "DEU"):
    return Location(opening_times=opening_times, time_zone=time_zone, country=country)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


NIGHTS = {  # Mondays 22:00 to Tuesday 06:00, Saturdays all day ("24:00" as the end)
    "twentyfourseven": False,
    "regular_hours": [
        {"weekday": 1, "period_begin": "22:00", "period_end": "06:00"},
        {"weekday": 6, "period_begin": "00:00", "period_end": "24:00"},
    ],
}


def test_it_is_open_without_opening_times() -> None:
    assert closed(location(None), at(2026, 3, 3, 12)) is None


def test_it_is_open_past_midnight_in_a_period_that_runs_over_it() -> None:
    assert closed(location(NIGHTS), at(2026, 3, 3, 3)) is None  # Tuesday 03:00


def test_it_says_when_it_opens_next_when_closed() -> None:
    assert closed(location(NIGHTS), at(2026, 3, 3, 7)) == Closed(opens=at(2026, 3, 7, 0))
    assert closed(location(NIGHTS), at(2026, 3, 7, 23, 59)) is None  # "24:00" is the day's end


def test_regular_hours_are_local_time_across_a_clock_change() -> None:
    """Berlin moves to summer time on 29 March 2026: 22:00 on Monday 30 March is 20:00 UTC."""
    shut = closed(location(NIGHTS), at(2026, 3, 29, 12))  # a Sunday, closed
    assert shut is not None and shut.opens == at(2026, 3, 30, 22)
    assert shut.opens.utcoffset().total_seconds() == 7200


def test_exceptional_openings_open_and_exceptional_closings_close() -> None:
    hours = NIGHTS | {
        "exceptional_openings": [
            {"period_begin": "2026-03-04T08:00:00Z", "period_end": "2026-03-04T10:00:00Z"}
        ],
        "exceptional_closings": [
            {"period_begin": "2026-03-02T20:00:00Z", "period_end": "2026-03-03T02:00:00Z"}
        ],
    }
    assert closed(location(hours), at(2026, 3, 4, 10)) is None  # 09:00 UTC
    shut = closed(location(hours), at(2026, 3, 2, 23))  # a Monday night, but closed
    assert shut == Closed(opens=at(2026, 3, 3, 3))  # when the closing ends, 02:00 UTC


def test_regular_hours_without_a_local_clock_are_not_guessed() -> None:
    shut = closed(location(NIGHTS, time_zone="", country="USA"), at(2026, 3, 3, 12))
    assert shut == Closed(opens=None, clock_unknown=True)
    assert (
        closed(location({"twentyfourseven": True}, time_zone="", country="USA"), at(2026, 3, 3, 12))
        is None
    )
