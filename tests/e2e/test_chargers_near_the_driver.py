"""A driver without a QR code opens `/charge/`, lets the phone tell where it is, and sees the
simulator's chargers nearest first, with their status and price per kWh, each leading to its
charger page; or types a postal code instead."""

import math
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from cpo_simulator import CpoSimulator
from tests.e2e.conftest import Phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SITES = 8


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine, written here again so as not to check the code with itself."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    )
    return 12742 * math.asin(math.sqrt(h))


def test_the_nearby_list_shows_the_simulators_chargers_nearest_first(
    phone: Phone, connected_cpo: Callable[..., CpoSimulator]
) -> None:
    cpo = connected_cpo(location_count=SITES)
    for index in range(SITES):
        assert cpo.push_location(index).json()["status_code"] == 1000
    for tariff_id in ("TARIFF-AC", "TARIFF-DC"):
        cpo.push_tariff(tariff_id)
    sites = [cpo.location(i) for i in range(SITES)]
    here = (52.04, 4.52)
    ranked = sorted(
        (km(here, (float(s["coordinates"]["latitude"]), float(s["coordinates"]["longitude"]))), s)
        for s in sites
    )
    expected = [s["name"] for d, s in ranked if d <= 25]
    assert 2 <= len(expected) < SITES  # some near, some beyond the radius

    driver = phone()
    page = driver.page
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": here[0], "longitude": here[1]})
    page.goto(f"{driver.base_url}/charge/")
    page.get_by_role("button", name="Use my position").click()
    expect(page).to_have_url(re.compile(r"/charge/\?near=52\.04000%2C4\.52000"))
    entries = page.locator("li.nearby-location")
    expect(entries).to_have_count(len(expected))
    names = [entry.locator("strong").inner_text() for entry in entries.all()]
    assert names == expected
    first = entries.first
    expect(first.get_by_text(re.compile(r"€0\.(59|69)/kWh")).first).to_be_visible()
    expect(first.get_by_role("link", name="Directions")).to_have_attribute(
        "href", re.compile(r"^https://www\.google\.com/maps/dir/\?api=1&destination=52\.")
    )
    driver.screenshot("1-nearest-first")

    charger_link = first.get_by_role("link", name=re.compile(r"^NL\*SIM\*E\d+\*1$"))
    evse_id = charger_link.inner_text()
    charger_link.click()
    expect(page).to_have_url(re.compile(r"/charge/NL\*SIM\*E\d+\*1/$"))
    expect(page.get_by_text(evse_id).first).to_be_visible()

    page.goto(f"{driver.base_url}/charge/")
    page.get_by_label("Or type a postal code or city").fill(sites[0]["postal_code"])
    page.get_by_role("button", name="Show chargers near there").click()
    expect(page.locator("li.nearby-location").first.locator("strong")).to_have_text(
        sites[0]["name"]
    )
    driver.screenshot("2-by-postal-code")
