"""What `describe_evse` answers is the caller's own: a request that changes it (or a template
that would) changes nothing another request is shown, although the connectors' prices behind it
are kept per process. And a kept answer is the answer computed afresh."""

import pytest

from payments import api, connector_prices, offers
from payments.views import PAGE_ESTIMATE
from stations import evse_ids
from tests.payments.charger import charger

pytestmark = pytest.mark.django_db


def describe(evse) -> dict:
    return api.describe_evse(evse, locale="en", estimate_kwh=PAGE_ESTIMATE)


def test_changing_an_answer_changes_no_later_one(stripe_settings) -> None:
    evse = charger()
    first = describe(evse)
    fresh = describe(evse)
    connector = first["connectors"][0]
    connector["tariff"]["text"].append("free beer")
    connector["tariff"]["estimates"][0]["text"] = "20 kWh ≈ €0.00"
    connector["tariff"]["elements"].clear()
    connector["hold_text"] = ""
    first["connectors"].clear()
    assert describe(evse) == fresh


def test_a_kept_answer_is_the_answer_computed_afresh(stripe_settings) -> None:
    evse = charger()
    describe(evse)
    warm = describe(evse)
    connector_prices.forget()
    offers.forget()
    evse_ids.forget()
    assert describe(evse) == warm
    assert warm["payable"] and warm["connectors"][0]["hold_text"] == "Up to €50.00 is reserved."
