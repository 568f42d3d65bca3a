"""The connectors' prices a web process keeps for charger pages: used only from the moment they
were priced at until the clock could change them (a clock set back finds nothing either), and
never more than MAX_ENTRIES of them."""

from datetime import UTC, datetime, timedelta

import pytest

from payments import connector_prices
from payments.connector_prices import Described

AT = datetime(2026, 6, 1, 12, tzinfo=UTC)


def described(text: str = "€0.595 per kWh") -> Described:
    return Described(
        fields_kept={"id": "1", "tariff": {"text": [text]}},
        not_payable_reason=None,
        priced=True,
        hold_kept={"hold": "50.00", "hold_minor": 5000, "hold_text": "Up to €50.00 is reserved."},
    )


@pytest.fixture(autouse=True)
def empty() -> None:
    connector_prices.forget()


def test_it_is_used_from_its_pricing_until_its_end_only() -> None:
    until = AT + timedelta(hours=1)
    connector_prices.put("k", described(), at=AT, until=until)
    assert connector_prices.get("k", at=AT) is not None
    assert connector_prices.get("k", at=until - timedelta(microseconds=1)) is not None
    assert connector_prices.get("k", at=until) is None
    assert connector_prices.get("k", at=AT - timedelta(microseconds=1)) is None  # clock set back


def test_an_empty_window_keeps_nothing() -> None:
    connector_prices.put("k", described(), at=AT, until=AT)
    assert connector_prices.get("k", at=AT) is None


def test_it_keeps_no_more_than_max_entries() -> None:
    kept = described()
    for n in range(connector_prices.MAX_ENTRIES + 10):
        connector_prices.put(n, kept, at=AT, until=None)
    assert len(connector_prices._entries) <= connector_prices.MAX_ENTRIES
    assert connector_prices.get(connector_prices.MAX_ENTRIES + 9, at=AT) is not None


def test_what_it_hands_out_is_a_copy() -> None:
    connector_prices.put("k", described(), at=AT, until=None)
    kept = connector_prices.get("k", at=AT)
    assert kept is not None
    kept.fields["tariff"]["text"].append("free beer")
    kept.hold["hold_text"] = ""
    again = connector_prices.get("k", at=AT)
    assert again is not None and again.fields == {"id": "1", "tariff": {"text": ["€0.595 per kWh"]}}
    assert again.hold["hold_text"] == "Up to €50.00 is reserved."
