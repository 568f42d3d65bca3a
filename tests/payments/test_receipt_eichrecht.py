"""Calibration law on the receipt: the CDR's signed meter values, encoding and public key are
shown as received, with our verdict in plain words: valid, tampered, or energy not matching."""

import httpx
import pytest

from payments import receipts
from tests.payments.visit import settled

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_valid_signature_and_matching_energy_check_out(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings)
    calibration = receipts.receipt_for(checkout).calibration
    assert calibration is not None and calibration.verdict == "valid"
    assert calibration.encoding == "OCMF"
    assert calibration.signed_kwh == calibration.billed_kwh
    html = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/").text
    assert calibration.public_key in html
    assert "OCMF|{" in html  # the signed values, as received, for transparency software


def test_a_tampered_signature_is_said_plainly(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings, cdr_fault="tampered_signature")
    calibration = receipts.receipt_for(checkout).calibration
    assert calibration is not None and calibration.verdict == "tampered"
    html = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/").text
    assert 'data-verdict="tampered"' in html
    assert "the signature does not match the meter data" in html


def test_billed_energy_other_than_the_signed_readings_is_said_plainly(
    connected_cpo, live_server, stripe_settings, eager_tasks
) -> None:
    checkout = settled(connected_cpo, live_server, stripe_settings, cdr_fault="energy_mismatch")
    calibration = receipts.receipt_for(checkout).calibration
    assert calibration is not None and calibration.verdict == "energy_mismatch"
    assert calibration.signed_kwh - calibration.billed_kwh == 0.5
    html = httpx.get(f"{live_server.url}/checkout/{checkout.public_id}/receipt/").text
    assert "is not what the signed meter readings say" in html
