"""An operator prints QR stickers for a location or a whole CPO party: an A4 PDF whose QR codes
a phone decodes to the charger's page (by its EVSE ID, so a re-registered CPO's stickers stay
right), with the EVSE ID, the operator's name and a short address to type the ID in."""

import io
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import zxingcpp
from pypdf import PdfReader

from ocpi_peer.registration import invite_partner, unregister_partner
from payments.models import CpoTerms
from stations.models import Evse, Location
from tests.payments.charging import push_stations
from tests.support.roles import signed_in

pytestmark = pytest.mark.django_db(transaction=True)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def decoded(pdf: bytes) -> list[str]:
    """What a phone reads from each QR code of the sheet, page by page."""
    found = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for image in page.images:
            found += [barcode.text for barcode in zxingcpp.read_barcodes(image.image)]
    return found


def text_of(pdf: bytes) -> str:
    """The sheet's words, each run of white space (a line break too) one space."""
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def test_it_prints_a_sticker_per_charger_of_a_party_that_opens_its_page(
    connected_cpo, live_server, settings
) -> None:
    settings.PUBLIC_BASE_URL = live_server.url
    cpo = connected_cpo(location_count=5)
    push_stations(cpo)
    for n in range(1, 5):
        assert cpo.push_location(n).json()["status_code"] == 1000
    terms = CpoTerms.objects.create(
        country_code="NL", party_id="SIM", default_hold=Decimal(50), legal_name="Sim Laden GmbH"
    )
    evse_ids = sorted(Evse.objects.values_list("evse_id", flat=True))
    assert len(evse_ids) == 10  # two pages of eight stickers

    answer = signed_in("ben", "finance").post(
        "/admin/payments/cpoterms/",
        {"action": "print_stickers", "_selected_action": [terms.pk]},
    )
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    pdf = answer.content
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "qr-stickers.pdf").write_bytes(pdf)  # to look at
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2
    urls = decoded(pdf)
    assert sorted(urls) == [f"{live_server.url}/charge/{evse_id}/" for evse_id in evse_ids]
    text = text_of(pdf)
    for evse_id in evse_ids:
        assert evse_id in text
    assert "Sim Laden GmbH" in text
    host = live_server.url.split("://")[1]
    assert f"Open {host}/charge and enter the ID" in text
    assert f"Öffnen Sie {host}/charge und geben Sie die ID ein" in text

    for url in urls[:2]:
        page = httpx.get(url, headers={"Accept-Language": "en"})
        assert page.status_code == 200
        assert url.rsplit("/", 2)[1] in page.text and "Sim Laden GmbH" in page.text


def test_it_prints_the_stickers_of_chosen_locations(connected_cpo, live_server, settings) -> None:
    settings.PUBLIC_BASE_URL = live_server.url
    cpo = connected_cpo(location_count=2)
    push_stations(cpo)
    assert cpo.push_location(1).json()["status_code"] == 1000
    first = Location.objects.order_by("ocpi_id").first()
    assert first is not None
    answer = signed_in("carl", "operations").post(
        "/admin/stations/location/", {"action": "print_stickers", "_selected_action": [first.pk]}
    )
    assert answer["Content-Type"] == "application/pdf"
    wanted = sorted(first.evses.values_list("evse_id", flat=True))
    assert sorted(decoded(answer.content)) == [f"{live_server.url}/charge/{e}/" for e in wanted]


def test_its_stickers_still_open_the_charger_after_the_cpo_registers_anew(
    cpo_simulator, ocpi_base, live_server, settings
) -> None:
    settings.PUBLIC_BASE_URL = live_server.url
    before, token_a = invite_partner(name="Before")
    cpo = cpo_simulator(location_count=1, cdr_fault="no_cdr")
    assert cpo.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 1000
    push_stations(cpo)
    location = Location.objects.get()
    sheet = signed_in("carl", "operations").post(
        "/admin/stations/location/", {"action": "print_stickers", "_selected_action": [location.pk]}
    )
    urls = decoded(sheet.content)

    before.refresh_from_db()
    unregister_partner(partner=before)
    after, token_a = invite_partner(name="After")
    back = cpo_simulator(location_count=1, cdr_fault="no_cdr")
    assert back.register_with(f"{ocpi_base}/versions", token_a).json()["status_code"] == 1000
    push_stations(back)
    assert Location.objects.get().partner == after
    for url in urls:
        page = httpx.get(url, headers={"Accept-Language": "en"})
        assert page.status_code == 200 and url.rsplit("/", 2)[1] in page.text
        assert 'id="pay"' in page.text  # payable, at the connection that holds it now
