"""A location's opening times, read in its own time zone, decide whether a driver may pay: closed
and not charging while closed (`charging_when_closed` false) is not payable, and the driver is
told when it opens; a location that charges while closed stays payable."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from stations.models import Location
from tests.payments.charger import EVSE_ID, charger

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def in_two_days() -> datetime:
    """8:00 in Berlin the day after tomorrow: the location's only opening hours in these tests
    (two days ahead, so a test run across midnight still expects the same moment)."""
    day = timezone.now().astimezone(BERLIN).date() + timedelta(days=2)
    return datetime(day.year, day.month, day.day, 8, tzinfo=BERLIN)


def hours_then() -> dict:
    opens = in_two_days()
    return {
        "twentyfourseven": False,
        "regular_hours": [
            {"weekday": opens.isoweekday(), "period_begin": "08:00", "period_end": "18:00"}
        ],
    }


def located(opening_times: dict, charging_when_closed: bool | None) -> None:
    charger()
    Location.objects.update(opening_times=opening_times, charging_when_closed=charging_when_closed)


def evse(client: Client, language: str = "en") -> dict:
    return client.get(f"/api/v1/evses/{EVSE_ID}", HTTP_ACCEPT_LANGUAGE=language).json()


def test_it_offers_no_payment_while_closed_and_says_when_it_opens(
    client: Client, stripe_settings
) -> None:
    located(hours_then(), charging_when_closed=False)
    opens = in_two_days()
    body = evse(client)
    assert body["payable"] is False
    assert body["reason"] == (
        "it is closed now and does not charge while closed; it opens at "
        f"{opens:%Y-%m-%d} 08:00 {opens.tzname()}"
    )
    german = evse(client, "de")
    assert german["reason"].endswith(f"er öffnet am {opens:%d.%m.%Y} 08:00 {opens.tzname()}")
    html = client.get(f"/charge/{EVSE_ID}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="pay"' not in html and "it is closed now" in html
    refused = client.post(
        "/api/v1/checkouts",
        {"evse_id": EVSE_ID, "connector_id": "1"},
        content_type="application/json",
    )
    assert refused.status_code == 409 and "closed" in refused.json()["detail"]


def test_a_location_that_charges_while_closed_is_payable(client: Client, stripe_settings) -> None:
    located(hours_then(), charging_when_closed=True)
    assert evse(client)["payable"] is True


def test_an_exceptional_closing_closes_a_location_open_around_the_clock(
    client: Client, stripe_settings
) -> None:
    now = timezone.now()
    until = (now + timedelta(days=1)).replace(microsecond=0)
    closing = {
        "period_begin": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "period_end": until.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    located({"twentyfourseven": True, "exceptional_closings": [closing]}, False)
    body = evse(client)
    assert body["payable"] is False
    local = until.astimezone(BERLIN)
    assert body["reason"].endswith(f"it opens at {local:%Y-%m-%d %H:%M} {local.tzname()}")


def test_it_is_payable_within_its_opening_hours(client: Client, stripe_settings) -> None:
    located({"twentyfourseven": True}, charging_when_closed=False)
    assert evse(client)["payable"] is True
