"""Every official 2.3.0 Payments example (Terminals, their PUT, PATCH and activation bodies,
and Financial Advice Confirmations) parses with our serializers and comes back the same when
we write it: the whole object where the example is one, the fields it gives where it is a
request body. The FAC examples use the old excl_vat/incl_vat shape (B-23); we write the Price
shape, which reads back to the same amounts."""

from typing import Any

import pytest
from django.utils import timezone

from ocpi_peer import versions
from payments.models import FinancialAdvice, Terminal
from tests.ocpi.examples import example, example_names, meaningful

SPEC = versions.get("2.3.0")
WHOLE_TERMINALS = {
    "payment_terminal_create.json",
    "payment_terminal_example_newly_created.json",
    "payment_terminal_example_assigned_locations.json",
    "payment_terminal_example_assigned_locations_assigned_evses.json",
}


def _read(serializer: Any, data: Any) -> dict[str, Any]:
    return dict(SPEC.read(serializer, data))


@pytest.mark.parametrize("name", example_names("payment_terminal_*.json", "2.3.0"))
def test_it_reads_and_writes_every_terminal_example(name: str) -> None:
    data = example(name, "2.3.0")
    fields = _read(SPEC.terminal, data)
    terminal = Terminal(terminal_id="our-id", last_updated=timezone.now())
    for field, value in fields.items():
        setattr(terminal, field, value)
    written = SPEC.terminal().to_representation(terminal)
    again = _read(SPEC.terminal, written)
    assert {k: again[k] for k in fields} == fields
    if name in WHOLE_TERMINALS:
        terminal.last_updated = SPEC.read(SPEC.financial_advice, _fac_with(data))["last_updated"]
        assert meaningful(SPEC.terminal().to_representation(terminal)) == meaningful(data)


def _fac_with(data: dict[str, Any]) -> dict[str, Any]:
    """A FAC around the example's last_updated, to read it as we read any DateTime."""
    return {
        "id": "x",
        "authorization_reference": "x",
        "total_costs": {"before_taxes": 0},
        "currency": "EUR",
        "capture_status_code": "SUCCESS",
        "last_updated": data["last_updated"],
    }


@pytest.mark.parametrize(
    "name", example_names("payment_financial_advice_confirmation_*.json", "2.3.0")
)
def test_it_reads_and_writes_every_financial_advice_example(name: str) -> None:
    data = example(name, "2.3.0")
    fields = _read(SPEC.financial_advice, data)
    assert fields["total_excl_vat"] == data["total_costs"]["excl_vat"]
    assert fields["total_incl_vat"] == data["total_costs"]["incl_vat"]
    written = SPEC.financial_advice().to_representation(FinancialAdvice(**fields))
    assert written["total_costs"]["before_taxes"] == data["total_costs"]["excl_vat"]
    assert _read(SPEC.financial_advice, written) == fields
    left = {k: v for k, v in data.items() if k != "total_costs"}
    assert meaningful({k: written[k] for k in left if k in written}) == meaningful(left)
