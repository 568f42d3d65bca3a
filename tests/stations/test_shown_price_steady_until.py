"""How long the price shown at a connector stays what it is (`shown_price_steady_until`), which
a charger's page keeps it for: until a tariff's validity ends or starts, and for a price that
depends on the time of day until the last start whose estimated session ends before the
restriction's next change. Within that window the price shown is the same at every instant."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stations.models import Connector, Tariff
from stations.tariffs import shown_price, shown_price_steady_until
from tests.stations.station_data import energy, store_location, store_tariff

pytestmark = pytest.mark.django_db

ESTIMATE = (Decimal(20),)
# Berlin in June is UTC+2: 20:00 UTC is 22:00 local, when the night price starts.
NIGHT_STARTS = datetime(2026, 6, 1, 20, tzinfo=UTC)
DAY_STARTS = datetime(2026, 6, 2, 4, tzinfo=UTC)  # 06:00 local
# AC, three phases, 230 V, 16 A: 11.04 kW, so 20 kWh take 1 h 48 min 42 s (and a bit).
SESSION = timedelta(hours=1, minutes=48, seconds=42)


def held(connector: Connector) -> list[Tariff]:
    return list(Tariff.objects.filter(deleted_at=None))


def shown_at(connector: Connector, at: datetime) -> tuple[tuple[str, ...], tuple[str, ...]]:
    shown = shown_price(connector, at=at, locale="en", held=held(connector), estimate_kwh=ESTIMATE)
    assert shown is not None
    return shown.lines, tuple(e.text for e in shown.estimates)


def test_a_price_without_time_restrictions_stays_while_its_tariffs_do() -> None:
    store_tariff([energy("0.50")], tariff_id="ADHOC", type="AD_HOC_PAYMENT")
    connector = store_location(tariff_ids=["ADHOC"])
    at = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert shown_price_steady_until(connector, at=at, held=held(connector)) is None


def test_it_ends_when_a_tariff_the_connector_names_starts_or_ends() -> None:
    store_tariff([energy("0.50")], tariff_id="REG", type="REGULAR")
    store_tariff(
        [energy("0.40")],
        tariff_id="PROMO",
        type="AD_HOC_PAYMENT",
        start_date_time="2026-06-03T00:00:00Z",
        end_date_time="2026-06-10T00:00:00Z",
    )
    connector = store_location(tariff_ids=["PROMO", "REG"])
    before = datetime(2026, 6, 1, 12, tzinfo=UTC)
    during = datetime(2026, 6, 5, 12, tzinfo=UTC)
    starts, ends = datetime(2026, 6, 3, tzinfo=UTC), datetime(2026, 6, 10, tzinfo=UTC)
    assert shown_price_steady_until(connector, at=before, held=held(connector)) == starts
    assert shown_price_steady_until(connector, at=during, held=held(connector)) == ends
    assert shown_at(connector, starts - timedelta(microseconds=1)) != shown_at(connector, starts)


@pytest.fixture
def day_and_night() -> Connector:
    store_tariff(
        [
            energy("0.60", start_time="06:00", end_time="22:00"),
            energy("0.40", start_time="22:00", end_time="06:00"),
        ],
        tariff_id="DN",
        type="AD_HOC_PAYMENT",
    )
    return store_location(tariff_ids=["DN"])


def test_a_day_price_stays_until_a_session_would_reach_the_night(day_and_night: Connector) -> None:
    at = datetime(2026, 6, 1, 12, tzinfo=UTC)
    until = shown_price_steady_until(
        day_and_night, at=at, held=held(day_and_night), estimate_kwh=ESTIMATE
    )
    assert until is not None
    assert NIGHT_STARTS - SESSION - timedelta(seconds=3) <= until <= NIGHT_STARTS - SESSION
    # the same at every instant of the window, and not at its end's session any more
    for moment in (at, at + timedelta(hours=3), until - timedelta(microseconds=1)):
        assert shown_at(day_and_night, moment) == shown_at(day_and_night, at)
    assert shown_at(day_and_night, NIGHT_STARTS - SESSION / 2) != shown_at(day_and_night, at)


def test_a_session_that_would_cross_the_change_is_not_kept_at_all(
    day_and_night: Connector,
) -> None:
    at = NIGHT_STARTS - timedelta(minutes=30)
    until = shown_price_steady_until(
        day_and_night, at=at, held=held(day_and_night), estimate_kwh=ESTIMATE
    )
    assert until == at  # an empty window: nothing kept


def test_the_night_price_stays_until_a_session_would_reach_the_morning(
    day_and_night: Connector,
) -> None:
    at = NIGHT_STARTS
    until = shown_price_steady_until(
        day_and_night, at=at, held=held(day_and_night), estimate_kwh=ESTIMATE
    )
    # local midnight cuts the night in two (a day of week could change there)
    midnight = datetime(2026, 6, 1, 22, tzinfo=UTC)
    assert until is not None and midnight - SESSION - timedelta(seconds=3) <= until
    assert until <= midnight - SESSION < DAY_STARTS
    assert shown_at(day_and_night, until - timedelta(microseconds=1)) == shown_at(day_and_night, at)


def test_the_longest_estimate_bounds_the_window(day_and_night: Connector) -> None:
    at = datetime(2026, 6, 1, 12, tzinfo=UTC)
    one = shown_price_steady_until(
        day_and_night, at=at, held=held(day_and_night), estimate_kwh=(Decimal(10),)
    )
    three = shown_price_steady_until(
        day_and_night,
        at=at,
        held=held(day_and_night),
        estimate_kwh=(Decimal(10), Decimal(20), Decimal(40)),
    )
    assert one is not None and three is not None and three < one
