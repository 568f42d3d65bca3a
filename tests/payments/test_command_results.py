"""CommandResults arrive on our unguessable response URLs: repeats change nothing, late ones are
recorded, strangers are refused; support staff can unlock a connector from the admin."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from ocpi_peer.models import CommandRequest
from payments.models import Deadline
from tests.helpers import wait_until
from tests.payments.charging import fall_due, pay, push_stations, reaches

pytestmark = pytest.mark.django_db(transaction=True)


def result_url(command: CommandRequest) -> str:
    return command.request_body["response_url"]


def test_a_repeated_result_changes_nothing_and_a_late_one_is_recorded(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo(location_count=1, command_fault="no_result")
    checkout = pay(live_server.url, stripe_settings, push_stations(cpo))
    fall_due(checkout, Deadline.Kind.COMMAND_TIMEOUT)  # we stopped waiting for the result
    command = CommandRequest.objects.get(checkout=checkout)
    answer = cpo.call_us("POST", result_url(command), json={"result": "ACCEPTED"})
    assert answer.status_code == 200 and answer.json()["status_code"] == 1000
    command.refresh_from_db()
    assert command.result == "ACCEPTED" and command.late
    again = cpo.call_us("POST", result_url(command), json={"result": "REJECTED"})
    assert again.json()["status_code"] == 1000
    command.refresh_from_db()
    assert command.result == "ACCEPTED"  # the first result stands
    assert checkout.__class__.objects.get(pk=checkout.pk).status == "starting"


def test_an_unknown_response_url_is_404(connected_cpo, ocpi_base) -> None:
    cpo = connected_cpo(location_count=1)
    answer = cpo.call_us(
        "POST", f"{ocpi_base}/2.2.1/commands/START_SESSION/guessed", json={"result": "ACCEPTED"}
    )
    assert answer.status_code == 404


def test_support_staff_unlock_a_connector_from_the_admin(
    connected_cpo, live_server, stripe_settings, eager_tasks, client: Client
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    client.force_login(User.objects.create_superuser("support", "", "pw-support-1"))
    page = client.post(
        "/admin/payments/checkout/",
        {"action": "unlock_connector", "_selected_action": [checkout.pk]},
        follow=True,
    )
    assert "unlock sent" in page.content.decode()
    wait_until(lambda: any(c.command == "UNLOCK_CONNECTOR" for c in cpo.commands))
    unlock = CommandRequest.objects.get(checkout=checkout, command="UNLOCK_CONNECTOR")
    assert unlock.response_result == "ACCEPTED"
    assert unlock.request_body["evse_uid"] == checkout.evse.uid
    listing = client.get("/admin/ocpi_peer/commandrequest/").content.decode()
    assert "UNLOCK_CONNECTOR" in listing and "START_SESSION" in listing
