"""The calibration-law section from a CDR's signed data, for what the simulator does not send:
another encoding is shown raw for the driver's transparency software, unreadable data is said
to be unreadable, and a CDR without signed data has no such section."""

import json
from decimal import Decimal

from django.utils import translation

from payments import receipts
from payments.models import Cdr


def cdr_with(signed_data: object | None) -> Cdr:
    body = {"id": "CDR-1", "total_energy": 12.5}
    if signed_data is not None:
        body["signed_data"] = signed_data
    return Cdr(body=json.dumps(body), total_energy=Decimal("12.5"))


def test_another_encoding_is_shown_raw_and_not_verified_here() -> None:
    signed = {
        "encoding_method": "Alfen Eichrecht",
        "encoding_method_version": 1,
        "public_key": "AKEY",
        "signed_values": [{"nature": "End", "plain_data": "raw", "signed_data": "AP;0;1;SIG"}],
        "url": "https://example.org/meter",
    }
    calibration = receipts.calibration_for(cdr_with(signed))
    assert calibration is not None and calibration.verdict == "not_verified"
    assert (calibration.encoding, calibration.encoding_version) == ("Alfen Eichrecht", "1")
    assert calibration.public_key == "AKEY" and calibration.url == "https://example.org/meter"
    (value,) = calibration.values
    assert (value.plain_data, value.signed_data) == ("raw", "AP;0;1;SIG")
    with translation.override("de"):
        assert "Alfen Eichrecht" in calibration.verdict_text
        assert "Transparenzsoftware" in calibration.verdict_text


def test_unreadable_signed_data_is_said_to_be_unreadable() -> None:
    signed = {"encoding_method": "OCMF", "public_key": "00", "signed_values": [{"nature": "x"}]}
    calibration = receipts.calibration_for(cdr_with(signed))
    assert calibration is not None and calibration.verdict == "unreadable"
    with translation.override("en"):
        assert calibration.verdict_text == "The signed meter data cannot be read."


def test_a_cdr_without_signed_data_has_no_calibration_section() -> None:
    assert receipts.calibration_for(cdr_with(None)) is None
