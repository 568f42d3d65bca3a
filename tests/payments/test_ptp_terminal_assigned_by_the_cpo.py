"""Over OCPI 2.3.0 our web checkout is a Payment Terminal: we create it at the CPO's Payments
Receiver, the CPO assigns its locations by PATCH to our Payments Sender, and reads it back."""

import httpx
import pytest

from payments import tasks
from payments.models import Terminal
from tests.ocpi.examples import example
from tests.payments.charging import push_stations
from tests.payments.ptp import terminal_at

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_creates_one_terminal_per_cpo_party_at_the_cpo_once(connected_cpo, eager_tasks) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1)
    terminal, _ = terminal_at(cpo, assign=False)
    posted = cpo.terminals[terminal.terminal_id.upper()]
    assert (posted["country_code"], posted["party_id"]) == ("NL", "SIM")
    assert posted["location_ids"] == [] and posted["invoice_creator"] == "PTP"
    assert terminal.pushed_at is not None
    tasks.provide_terminals()  # beat again: nothing new, nothing sent twice
    assert Terminal.objects.count() == 1
    assert [c for c, _, _ in cpo.payment_posts] == ["terminals"]


def test_it_takes_the_cpos_assignment_and_serves_it_back(
    connected_cpo, live_server, eager_tasks
) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1)
    terminal, evse_id = terminal_at(cpo, assign=False)
    location_id = cpo.location(0)["id"]
    before = httpx.get(f"{live_server.url}/api/v1/evses/{evse_id}").json()
    assert before["payable"] is False
    answer = cpo.assign_terminal(terminal.terminal_id, location_ids=[location_id])
    assert answer.status_code == 200 and answer.json()["status_code"] == 1000
    assert answer.json()["data"]["location_ids"] == [location_id]
    after = httpx.get(f"{live_server.url}/api/v1/evses/{evse_id}").json()
    assert after["payable"] is True
    read = cpo.call_us("GET", f"payments/terminals/{terminal.terminal_id}").json()
    assert read["status_code"] == 1000 and read["data"]["location_ids"] == [location_id]
    listed = cpo.call_us("GET", "payments/terminals")
    assert [t["terminal_id"] for t in listed.json()["data"]] == [terminal.terminal_id]
    assert listed.headers["X-Total-Count"] == "1"
    later = cpo.call_us("GET", "payments/terminals?date_from=2100-01-01T00:00:00Z")
    assert later.json()["data"] == [] and later.headers["X-Total-Count"] == "0"


def test_an_evse_assignment_alone_makes_only_that_evse_payable(
    connected_cpo, live_server, eager_tasks
) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1)
    terminal, evse_id = terminal_at(cpo, assign=False)
    evses = cpo.location(0)["evses"]
    cpo.assign_terminal(terminal.terminal_id, evse_uids=[evses[0]["uid"]])
    payable = {
        e["evse_id"]: httpx.get(f"{live_server.url}/api/v1/evses/{e['evse_id']}").json()["payable"]
        for e in evses
    }
    assert payable[evse_id] is True
    assert not any(v for k, v in payable.items() if k != evse_id)


def test_another_connection_cannot_see_or_assign_our_terminal_for_this_one(
    connected_cpo, eager_tasks
) -> None:
    first = connected_cpo(version="2.3.0", location_count=1)
    terminal, _ = terminal_at(first, assign=False)
    other = connected_cpo(version="2.3.0", party_id="OTH", name="Other CPO")
    assert other.call_us("GET", f"payments/terminals/{terminal.terminal_id}").status_code == 404
    refused = other.assign_terminal(terminal.terminal_id, location_ids=["LOC1"])
    assert refused.status_code == 404 and refused.json()["status_code"] == 2001
    terminal.refresh_from_db()
    assert terminal.location_ids == []


def test_a_terminal_the_cpo_activates_is_created_at_the_cpo_once(
    connected_cpo, eager_tasks
) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1)
    body = example("payment_terminal_activate.json", "2.3.0")
    answer = cpo.call_us("POST", "payments/terminals/activate", json=body)
    assert answer.json()["status_code"] == 1000, answer.text
    activated = answer.json()["data"]
    assert activated["reference"] == "Term-SerialNumber"
    assert activated["location_ids"] == body["location_ids"]
    (posted,) = cpo.wait_for_terminals(1)
    assert posted["terminal_id"] == activated["terminal_id"]
    assert posted["location_ids"] == body["location_ids"]
    again = cpo.call_us("POST", "payments/terminals/activate", json=body)
    assert again.json()["data"]["terminal_id"] == activated["terminal_id"]
    assert Terminal.objects.filter(reference="Term-SerialNumber").count() == 1


def test_a_put_naming_another_terminal_or_a_bad_assignment_is_refused(
    connected_cpo, eager_tasks
) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1)
    terminal, _ = terminal_at(cpo, assign=False)
    path = f"payments/terminals/{terminal.terminal_id}"
    other = cpo.call_us("PUT", path, json={"terminal_id": "another", "city": "Vienna"})
    assert other.status_code == 200 and other.json()["status_code"] == 2001
    bad = cpo.call_us("PATCH", path, json={"location_ids": "LOC00001"})
    assert bad.status_code == 200 and bad.json()["status_code"] == 2001
    assert "location_ids" in bad.json()["status_message"]
    terminal.refresh_from_db()
    assert terminal.city == "" and terminal.location_ids == []


def test_a_cpo_without_a_payments_receiver_pulls_our_terminal_and_assigns_it(
    connected_cpo, live_server, eager_tasks
) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1, omit_modules=["payments"])
    evse_id = push_stations(cpo)
    tasks.provide_terminals()
    (listed,) = cpo.call_us("GET", "payments/terminals").json()["data"]
    assert cpo.payment_posts == [] and Terminal.objects.get().push_error == ""
    cpo.assign_terminal(listed["terminal_id"], location_ids=[cpo.location(0)["id"]])
    assert httpx.get(f"{live_server.url}/api/v1/evses/{evse_id}").json()["payable"] is True
