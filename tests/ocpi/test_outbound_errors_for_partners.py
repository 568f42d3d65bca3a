"""A partner learns nothing from our error text about what our calls to its URLs found (whether a
port is open, what DNS said, what answered); the operator's log keeps the details."""

import pytest

from ocpi_peer.models import Partner, TrafficLog
from ocpi_peer.registration import invite_partner
from tests.conftest import StartCpo
from tests.helpers import closed_port_url
from tests.ocpi.hostile import Handler, Server, serving

pytestmark = pytest.mark.django_db(transaction=True)


def _credentials(url: str) -> dict:
    role = {
        "role": "CPO",
        "business_details": {"name": "X"},
        "party_id": "SIM",
        "country_code": "NL",
    }
    return {"token": "CPO-TOKEN-B-1234567890", "url": url, "roles": [role]}


def _not_ocpi(handler: Handler, server: Server) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", "22")
    handler.end_headers()
    handler.wfile.write(b"<html>intranet</html>\n")


def test_a_closed_port_and_an_open_one_read_the_same_to_the_partner(
    ocpi_base: str, cpo_simulator: StartCpo
) -> None:
    cpo = cpo_simulator()
    answers, errors = [], []
    with serving(_not_ocpi) as intranet:
        for url in (closed_port_url(), intranet.url("/")):
            partner, token_a = invite_partner(name="Probing")
            answer = cpo.call_us(
                "POST", f"{ocpi_base}/2.2.1/credentials", token=token_a, json=_credentials(url)
            ).json()
            assert answer["status_code"] == 3001
            answers.append(answer["status_message"].split(" (reference")[0])
            errors.append(Partner.objects.get(pk=partner.pk).last_error)
    assert (
        answers[0]
        == answers[1]
        == "we could not use your OCPI API at the URLs you gave us; our operator has the details"
    )
    assert "could not connect" in errors[0]  # the operator sees what happened
    assert "not an OCPI envelope" in errors[1]


def test_a_refused_url_reads_the_same_and_the_reference_leads_to_the_log(
    ocpi_base: str, cpo_simulator: StartCpo, settings
) -> None:
    cpo = cpo_simulator()  # it calls us; our call to its URL is what the guard refuses
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    partner, token_a = invite_partner(name="Probing")
    answer = cpo.call_us(
        "POST",
        f"{ocpi_base}/2.2.1/credentials",
        token=token_a,
        json=_credentials("http://127.0.0.1:6379/ocpi/versions"),
    ).json()
    assert answer["status_code"] == 3001
    message = answer["status_message"]
    assert "127.0.0.1" not in message and "loopback" not in message
    reference = message.rsplit("(reference ", 1)[1].rstrip(")")
    logged = TrafficLog.objects.get(direction="out", correlation_id=reference)
    assert "loopback" in logged.error
    assert "loopback" in Partner.objects.get(pk=partner.pk).last_error
