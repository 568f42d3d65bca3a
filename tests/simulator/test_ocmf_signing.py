"""The simulator's meter signs OCMF records a verifier can check (Eichrecht, checklist CDR-08).

Checked here with `cryptography` and `ecdsa` directly, not with the product's verifier, so the
simulator is tested on its own; tests/payments/test_ocmf.py runs the two against each other."""

import ast
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import ecdsa
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from cpo_simulator import ocmf
from cpo_simulator.ocmf import METER, MeterSigner, sign_readings

START = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
END = START + timedelta(minutes=42, seconds=7, milliseconds=250)


def sections(record: str) -> tuple[str, str, str]:
    header, payload, signature = record.split("|")
    return header, payload, signature


def decoded(section: str) -> dict[str, Any]:
    return json.loads(section, parse_float=Decimal, parse_int=Decimal)


def test_a_record_with_begin_and_end_readings_in_kwh() -> None:
    record, _ = MeterSigner().sign_readings(
        Decimal("1000"), Decimal("1012.345"), START, END, "SIM-METER-7"
    )
    header, payload_text, signature_text = sections(record)
    assert header == "OCMF"
    payload = decoded(payload_text)
    assert payload["MS"] == "SIM-METER-7"
    assert payload["PG"] == "T1"
    assert payload["IS"] is False
    begin, end = payload["RD"]
    assert (begin["TX"], end["TX"]) == ("B", "E")
    assert (begin["RU"], end["RU"]) == ("kWh", "kWh")
    assert (begin["ST"], end["ST"]) == ("G", "G")
    assert begin["RI"] == end["RI"] == "1-b:1.8.0"
    # The value's digits are the meter's resolution: written as a JSON number, Wh precision.
    assert '"RV":1000.000' in payload_text
    assert '"RV":1012.345' in payload_text
    assert begin["RV"] == Decimal("1000.000")
    assert end["RV"] == Decimal("1012.345")
    assert begin["TM"] == "2024-05-01T10:00:00,000+0000 S"
    assert end["TM"] == "2024-05-01T10:42:07,250+0000 S"
    signature = decoded(signature_text)
    assert signature["SA"] == "ECDSA-secp256r1-SHA256"
    assert set(signature) == {"SA", "SD"}  # SE hex and SM DER are OCMF's defaults


def test_the_signature_covers_the_payload_section_with_the_returned_key() -> None:
    record, public_key_hex = MeterSigner().sign_readings(
        Decimal("5.5"), Decimal("17.25"), START, END, "M1"
    )
    _, payload, signature = sections(record)
    key = load_der_public_key(bytes.fromhex(public_key_hex))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert isinstance(key.curve, ec.SECP256R1)
    sd = bytes.fromhex(decoded(signature)["SD"])
    key.verify(sd, payload.encode(), ec.ECDSA(hashes.SHA256()))  # raises if not valid
    with pytest.raises(InvalidSignature):
        key.verify(sd, payload.replace("17.250", "17.350").encode(), ec.ECDSA(hashes.SHA256()))


def test_secp192k1_signs_through_ecdsa() -> None:
    signer = MeterSigner("secp192k1")
    record, public_key_hex = signer.sign_readings(
        Decimal("1"), Decimal("2"), START, END, "K1-METER"
    )
    # SubjectPublicKeyInfo: ecPublicKey, namedCurve 1.3.132.0.31, a 49-byte uncompressed point.
    assert public_key_hex.startswith("3046301006072A8648CE3D020106052B8104001F03320004")
    _, payload, signature = sections(record)
    assert decoded(signature)["SA"] == "ECDSA-secp192k1-SHA256"
    point = bytes.fromhex(public_key_hex)[-49:]
    key = ecdsa.VerifyingKey.from_string(point, curve=ocmf.secp192k1())
    sd = bytes.fromhex(decoded(signature)["SD"])
    assert key.verify(
        sd, payload.encode(), hashfunc=hashlib.sha256, sigdecode=ecdsa.util.sigdecode_der
    )


def test_the_secp192k1_constants_make_a_curve_of_the_stated_order() -> None:
    curve = ocmf.secp192k1()
    generator = curve.generator
    p = curve.curve.p()
    x, y = generator.x(), generator.y()
    assert (y * y - x**3 - 3) % p == 0
    assert (generator * curve.order) == ecdsa.ellipticcurve.INFINITY


def test_readings_are_cut_to_whole_wh_and_times_given_in_utc() -> None:
    cet = timezone(timedelta(hours=2))
    record, _ = MeterSigner().sign_readings(
        Decimal("1.23456"), Decimal("2.9999"), START.astimezone(cet), END, "M1"
    )
    begin, end = decoded(sections(record)[1])["RD"]
    assert (begin["RV"], end["RV"]) == (Decimal("1.234"), Decimal("2.999"))
    assert begin["TM"] == "2024-05-01T10:00:00,000+0000 S"


def test_each_record_takes_the_next_transaction_number() -> None:
    signer = MeterSigner()
    first, key_one = signer.sign_readings(Decimal(0), Decimal(1), START, END, "M1")
    second, key_two = signer.sign_readings(Decimal(1), Decimal(2), START, END, "M1")
    assert decoded(sections(first)[1])["PG"] == "T1"
    assert decoded(sections(second)[1])["PG"] == "T2"
    assert key_one == key_two


def test_the_simulators_meter_keeps_one_key() -> None:
    _, key_one = sign_readings(Decimal(0), Decimal(1), START, END, "M1")
    _, key_two = sign_readings(Decimal(3), Decimal(4), START, END, "M2")
    assert key_one == key_two == METER.public_key_hex


@pytest.mark.parametrize(
    ("start", "end", "start_time", "error"),
    [
        (1.5, Decimal(2), START, TypeError),  # never a float
        (Decimal(2), Decimal(1), START, ValueError),  # a register does not run backwards
        (Decimal("-1"), Decimal(1), START, ValueError),
        (Decimal(1), Decimal(2), START.replace(tzinfo=None), ValueError),  # no time zone
    ],
)
def test_refuses_what_no_meter_would_sign(
    start: Any, end: Decimal, start_time: datetime, error: type[Exception]
) -> None:
    with pytest.raises(error):
        MeterSigner().sign_readings(start, end, start_time, END, "M1")


def test_the_signer_imports_no_product_code() -> None:
    tree = ast.parse(Path(ocmf.__file__).read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module)
    product = {"payments", "stations", "config", "ocpi_peer"}
    for name in imported:
        root = name.split(".")[0]
        assert root not in product, name
