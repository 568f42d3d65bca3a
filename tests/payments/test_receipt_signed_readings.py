"""Calibration law on the receipt, over real HTTP against the CPO simulator's signed CDRs: the
signed start and end readings with their times, the meter's serial and the verdict, in English
and German; the signed data downloadable as the CDR carried it and as the transparency
software's XML, both verifying again; a meter key that changes at an EVSE, and signed data that
names another token, each open a case and are said on the receipt."""

from __future__ import annotations

from xml.etree import ElementTree

import httpx
import pytest
from django.utils import translation

from payments import ocmf, receipts
from payments.models import Case, Checkout, MeterKey
from stations import l10n
from tests.helpers import wait_until
from tests.payments.charging import pay, push_stations
from tests.payments.test_receipt_pdf import pdf_text
from tests.payments.visit import settled, status_of

pytestmark = pytest.mark.django_db(transaction=True)


def receipt_html(live_server, checkout: Checkout, language: str = "en") -> str:
    url = f"{live_server.url}/checkout/{checkout.public_id}/receipt/"
    answer = httpx.get(url, cookies={"django_language": language})
    assert answer.status_code == 200, answer.text
    return answer.text


def charge_again(cpo, live_server, fake, evse_id: str) -> Checkout:
    """A second driver pays and charges at the same EVSE; the CPO's CDR settles it."""
    checkout = pay(live_server.url, fake, evse_id)
    wait_until(lambda: status_of(checkout.pk) == "charging", timeout=20)
    cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
    wait_until(lambda: status_of(checkout.pk) == "settled", timeout=20)
    return Checkout.objects.get(pk=checkout.pk)


def test_it_shows_the_signed_readings_the_meter_serial_and_the_verdict_in_english_and_german(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    calibration = receipts.receipt_for(checkout).calibration
    assert calibration is not None and calibration.verdict == "valid"
    assert calibration.meter_serial == f"SIM-METER-{checkout.evse.uid}"
    assert calibration.start_kwh is not None and calibration.end_kwh is not None
    assert calibration.start_time is not None and calibration.end_time is not None

    english = receipt_html(live_server, checkout, "en")
    assert calibration.meter_serial in english
    with translation.override("en"):
        start, end = l10n.number(calibration.start_kwh), l10n.number(calibration.end_kwh)
    assert f"Signed start reading</dt><dd>{start} kWh at " in english
    assert f"Signed end reading</dt><dd>{end} kWh at " in english
    assert "Everything checks out" in english
    assert "your payment (CENTRAL " in english  # the signed identification is the driver's token

    german = receipt_html(live_server, checkout, "de")
    with translation.override("de"):
        start, end = l10n.number(calibration.start_kwh), l10n.number(calibration.end_kwh)
    assert f"Signierter Zählerstand zu Beginn</dt><dd>{start} kWh am " in german
    assert f"Signierter Zählerstand am Ende</dt><dd>{end} kWh am " in german
    assert "Seriennummer des Zählers" in german and calibration.meter_serial in german
    assert "Alles in Ordnung" in german and "Signatur gültig" in german
    for english_line in ("Signed start reading", "Everything checks out", "signature is valid"):
        assert english_line not in german


def test_the_pdf_and_the_email_carry_the_signed_readings_in_the_drivers_language(
    connected_cpo, live_server, stripe_settings, eager_tasks, mailoutbox
) -> None:
    checkout = settled(
        connected_cpo, live_server, stripe_settings, email="driver@example.org", locale="de"
    )
    calibration = receipts.receipt_for(checkout).calibration
    assert calibration is not None
    with translation.override("de"):
        end = l10n.number(calibration.end_kwh)  # type: ignore[arg-type]
    answer = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt.pdf")
    pdf = pdf_text(answer.content)
    assert "Seriennummer des Zählers" in pdf and calibration.meter_serial in pdf
    assert "Signierter Zählerstand am Ende" in pdf and f"{end} kWh am" in pdf
    assert "Alles in Ordnung" in pdf and "Everything checks out" not in pdf
    wait_until(lambda: len(mailoutbox) >= 1)
    (mail,) = mailoutbox
    assert f"Signierter Zählerstand am Ende: {end} kWh am" in mail.body
    assert f"Seriennummer des Zählers: {calibration.meter_serial}" in mail.body
    ((html, _),) = mail.alternatives
    assert "Signierter Zählerstand zu Beginn" in html


def test_it_downloads_the_signed_data_as_carried_and_it_verifies_again(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    calibration = receipts.receipt_for(checkout).calibration
    assert calibration is not None
    html = receipt_html(live_server, checkout)
    assert f'href="/checkout/{checkout.public_id}/signed-data.ocmf"' in html
    assert f'href="/checkout/{checkout.public_id}/signed-data.xml"' in html

    answer = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/signed-data.ocmf")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert ".ocmf" in answer.headers["Content-Disposition"]
    (record,) = answer.content.decode("utf-8").splitlines()
    assert record == calibration.values[0].plain_data  # as the CDR carried it
    again = ocmf.verify_ocmf(record, calibration.public_key)
    assert again.status == "valid" and again.meter_serial == calibration.meter_serial

    unknown = httpx.get(f"{live_server.url}/checkout/not-a-checkout/signed-data.ocmf")
    assert unknown.status_code == 404


def test_the_transparency_software_xml_holds_the_same_data_and_key(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    calibration = receipts.receipt_for(checkout).calibration
    assert calibration is not None
    answer = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/signed-data.xml")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/xml"
    root = ElementTree.fromstring(answer.content)  # noqa: S314 - our own answer, in a test
    assert root.tag == "values"
    (value,) = root.findall("value")
    assert value.get("transactionId") == "1" and value.get("context") == "Transaction.End"
    data, key = value.find("signedData"), value.find("publicKey")
    assert data is not None and key is not None
    assert (data.get("format"), data.get("encoding")) == ("OCMF", "plain")
    assert data.text == calibration.values[0].plain_data
    assert ocmf.public_key_bytes(key.text) == ocmf.public_key_bytes(calibration.public_key)
    assert ocmf.verify_ocmf(data.text, key.text).status == "valid"


def test_a_changed_meter_key_at_the_same_evse_opens_a_case_and_the_receipt_says_so(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    cpo = connected_cpo("2.2.1", location_count=1, update_interval=0.2, cdr_fault=None)
    evse_id = push_stations(cpo)
    first = charge_again(cpo, live_server, stripe_settings, evse_id)
    pinned = MeterKey.objects.get(evse=first.evse)
    assert pinned.cdr == first.cdrs.get()  # pinned on first sight
    assert "first seen with this charging session" in receipt_html(live_server, first)

    cpo.cdr_fault = "new_meter_key"
    second = charge_again(cpo, live_server, stripe_settings, evse_id)
    calibration = receipts.receipt_for(second).calibration
    assert calibration is not None and calibration.verdict == "key_changed"
    html = receipt_html(live_server, second)
    assert 'data-verdict="key_changed"' in html
    assert "signed with another key than the one on record" in html
    assert "differs from the key on record for this charger" in html
    case = Case.objects.get(kind=Case.Kind.METER_KEY_CHANGED)
    assert case.checkout == second and case.cdr == second.cdrs.get()
    german = receipt_html(live_server, second, "de")
    assert "mit einem anderen Schlüssel signiert" in german

    cpo.cdr_fault = None
    third = charge_again(cpo, live_server, stripe_settings, evse_id)  # the new meter again
    assert Case.objects.filter(kind=Case.Kind.METER_KEY_CHANGED).count() == 1  # opened once
    assert third.cases.filter(kind=Case.Kind.METER_KEY_CHANGED).count() == 0
    assert receipts.receipt_for(third).calibration.verdict == "key_changed"  # type: ignore[union-attr]
    assert MeterKey.objects.get(evse=first.evse).public_key == pinned.public_key
    assert receipts.receipt_for(first).calibration.verdict == "valid"  # type: ignore[union-attr]


def test_signed_data_naming_another_token_opens_a_case_and_the_receipt_says_so(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(
        connected_cpo, live_server, stripe_settings, cdr_fault="foreign_identification"
    )
    calibration = receipts.receipt_for(checkout).calibration
    assert calibration is not None and calibration.verdict == "identification_mismatch"
    assert calibration.findings.identification == "mismatch"
    html = receipt_html(live_server, checkout)
    assert "signed these readings for another card or session" in html
    assert "not your payment (CENTRAL FOREIGN-" in html
    (case,) = Case.objects.filter(kind=Case.Kind.SIGNED_DATA_MISMATCH)
    assert case.checkout == checkout and "not this checkout's token" in case.summary
