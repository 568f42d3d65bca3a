"""Over OCPI 2.3.0 a driver can pay only at an EVSE the CPO assigned to one of our terminals:
the charger's page says plainly why not, and no checkout starts. A terminal the CPO
deactivates makes its EVSEs unpayable again."""

import httpx
import pytest

from tests.payments.ptp import terminal_at

pytestmark = pytest.mark.django_db(transaction=True)

WHY = "its operator has not assigned it to our payment terminal"


def test_the_page_says_why_an_unassigned_evse_cannot_be_paid_for(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1)
    _, evse_id = terminal_at(cpo, assign=False)
    page = httpx.get(f"{live_server.url}/charge/{evse_id}/", headers={"Accept-Language": "en"})
    assert "This charger cannot be paid for now:" in page.text and WHY in page.text
    assert 'id="pay"' not in page.text
    german = httpx.get(f"{live_server.url}/charge/{evse_id}/", headers={"Accept-Language": "de"})
    assert "nicht unserem Bezahlterminal zugeordnet" in german.text
    started = httpx.post(
        f"{live_server.url}/api/v1/checkouts", json={"evse_id": evse_id, "connector_id": "1"}
    )
    assert started.status_code == 409 and WHY in started.text


def test_a_deactivated_terminal_no_longer_makes_its_evses_payable(
    connected_cpo, live_server, eager_tasks
) -> None:
    cpo = connected_cpo(version="2.3.0", location_count=1)
    terminal, evse_id = terminal_at(cpo)
    assert httpx.get(f"{live_server.url}/api/v1/evses/{evse_id}").json()["payable"] is True
    answer = cpo.call_us("POST", f"payments/terminals/{terminal.terminal_id}/deactivate")
    assert answer.json()["status_code"] == 1000
    info = httpx.get(f"{live_server.url}/api/v1/evses/{evse_id}").json()
    assert info["payable"] is False and WHY in info["reason"]


def test_a_221_connection_needs_no_terminal(connected_cpo, live_server) -> None:
    cpo = connected_cpo(version="2.2.1", location_count=1)
    from tests.payments.charging import push_stations

    evse_id = push_stations(cpo)
    assert httpx.get(f"{live_server.url}/api/v1/evses/{evse_id}").json()["payable"] is True
