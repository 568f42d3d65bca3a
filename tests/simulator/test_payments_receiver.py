"""The simulator's Payments Receiver (2.3.0): it checks what the PTP sends against the spec
(a FAC's total_costs must be a Price, its eft_data one line or more), keeps one object per id,
and with `assign_terminals` assigns all its locations to each new terminal by PATCH."""

import copy

import pytest

from ocpi_peer.client import Caller
from ocpi_peer.models import Partner
from payments import tasks
from payments.models import Terminal
from tests.helpers import wait_until
from tests.ocpi.examples import example

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_checks_each_financial_advice_and_keeps_one_per_id(connected_cpo) -> None:
    cpo = connected_cpo(version="2.3.0")
    partner = Partner.objects.get()
    url = f"{partner.endpoint('payments', 'RECEIVER')}/financial-advice-confirmations"
    caller = Caller.for_partner(partner)
    old_shape = example("payment_financial_advice_confirmation_create.json", "2.3.0")
    refused = caller.call("POST", url, json=old_shape, functional=True)
    assert refused.status_code == 2001 and "total_costs.before_taxes" in refused.message
    fac = copy.deepcopy(old_shape)
    fac["total_costs"] = {"before_taxes": 4, "taxes": [{"name": "VAT", "amount": 0.4}]}
    no_lines = {k: v for k, v in fac.items() if k != "eft_data"}
    assert "eft_data" in caller.call("POST", url, json=no_lines, functional=True).message
    assert caller.call("POST", url, json=fac, functional=True).http_status == 201
    assert caller.call("POST", url, json=fac, functional=True).http_status == 200  # the same
    assert list(cpo.advices) == [fac["id"].upper()]
    read = caller.call("GET", f"{url}/{fac['id']}", functional=True)
    assert read.ok and read.data["eft_data"] == fac["eft_data"]


def test_it_assigns_its_locations_to_a_new_terminal_when_told(connected_cpo, eager_tasks) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=2, assign_terminals=True)
    tasks.provide_terminals()
    (posted,) = cpo.wait_for_terminals(1)
    wanted = [cpo.location(0)["id"], cpo.location(1)["id"]]
    wait_until(
        lambda: Terminal.objects.get(terminal_id=posted["terminal_id"]).location_ids == wanted,
        timeout=10,
    )
