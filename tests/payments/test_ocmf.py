"""Eichrecht: OCMF signatures and the billed energy against the signed readings (CDR-08)."""

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import ecdsa
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cpo_simulator.ocmf import MeterSigner
from payments import ocmf
from payments.ocmf import check_cdr_signed_data, check_signed_data, parse_ocmf, verify_ocmf

START = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
END = START + timedelta(hours=1)

# ---------------------------------------------------------------------------------------------
# Real records. Data only, from the test data of the S.A.F.E. e.V. Transparenzsoftware
# (github.com/SAFE-eV/transparenzsoftware, Apache-2.0, src/test/resources/…), each checked to
# verify before being used here.

# …/xml/test_ocmf_keba_kcp30.xml: KEBA KCP30, secp256r1, no SA (OCMF's default), kWh, B and E in
# one record.
KEBA_KEY = (
    "3059301306072A8648CE3D020106082A8648CE3D030107034200043AEEB45C392357820A58FDFB0857BD77ADA31"
    "585C61C430531DFA53B440AFBFDD95AC887C658EA55260F808F55CA948DF235C2108A0D6DC7D4AB1A5E1A7955BE"
)
KEBA = (
    'OCMF|{"FV":"1.0","GI":"KEBA_KCP30","GS":"17619300","GV":"2.8.5","PG":"T32","IS":false,'
    '"IL":"NONE","IF":["RFID_NONE","OCPP_NONE","ISO15118_NONE","PLMN_NONE"],"IT":"NONE","ID":"",'
    '"RD":[{"TM":"2019-08-13T10:03:15,000+0000 I","TX":"B","EF":"","ST":"G","RV":0.2596,'
    '"RI":"1-b:1.8.0","RU":"kWh"},{"TM":"2019-08-13T10:03:36,000+0000 R","TX":"E","EF":"",'
    '"ST":"G","RV":0.2597,"RI":"1-b:1.8.0","RU":"kWh"}]}|{"SD":"304502200E2F107C987A300AC1695CA'
    "89EA149A8CDFA16188AF0A33EE64B67964AA943F9022100889A72B6D65364BEA8562E7F6A0253157ACFF84FE49"
    '29A93B5964D23C4265699"}'
)

# …/xml/brainpoolP256r1.xml: NZR EcoCount SL, brainpoolP256r1, Wh, Begin and End records.
NZR_KEY = (
    "305A301406072A8648CE3D020106092B240303020801010703420004607201339EF7C61EB1270C0BEA67558571"
    "1CB160835F0F55975A311EA6F14AE98981A9276ABC6C70ADA4F8CE25A5502336C738B9E86FB1ED62150FF1B0FA"
    "D5A2"
)
NZR_HEAD = (
    '{"FV":"1.0","GI":"NZR GATEWAY","GS":"21751020","GV":"1.0.0.0","PG":"T%s","MV":"NZR",'
    '"MM":"EcoCount SL","MS":"12345678","MF":"1.11","IS":false,"IL":"NONE","IF":[],"IT":"NONE",'
    '"ID":"","CT":"","CI":"","RD":[{"TM":"2021-10-26T11:15:%s,000+0000 S","TX":"%s","RV":1833,'
    '"RI":"1-0:1.8.1","RU":"Wh","RT":"AC","EF":"","ST":"G"}]}'
)
NZR_BEGIN = (
    "OCMF|"
    + NZR_HEAD % ("274", "09", "B")
    + '|{"SD":"304402202CC410E10CD9141394AE77B3DC17A523C359F65B0117C098703DF1F2AB773A3302204C6CC0'
    '11FE4920F87CF413F6FB94EDD78DAA26BB5DB4048DA9B3D3AB513CC23C","SA":"ECDSA-brainpoolP256r1-SHA'
    '256"}'
)
NZR_END = (
    "OCMF|"
    + NZR_HEAD % ("275", "12", "E")
    + '|{"SD":"304402202E573CC84746A5FDC4DDDE74A2C859C5FFB681D3F839C12AF460BD092EBB53A4022049DBE3'
    'A14F60F77571AF6321AD7FBE25157731161178B04EF4B9B3AEFBE404FB","SA":"ECDSA-brainpoolP256r1-SHA'
    '256"}'
)

# …/xml/nistP384_0Wh.xml: the same gateway on secp384r1 (Begin record only).
NZR384_KEY = (
    "3076301006072A8648CE3D020106052B81040022036200047991E23A9815893FF8D3C9EF47D682B39297FA3C47"
    "DA345EF3D150245814120F48AD31C51536341B80E679C3138E316ADB9F39BCB42E8CE28D4C824844B4C6B16E48"
    "F056FD803EC7F3CD1B6BA1BCA125DA5E211842D5FB61F01BAA3DE9B2F10C"
)
NZR384_BEGIN = (
    'OCMF|{"FV":"1.0","GI":"NZR GATEWAY","GS":"21751020","GV":"1.0.0.0","PG":"T5","MV":"NZR",'
    '"MM":"EcoCount SL","MS":"12345678","MF":"1.11","IS":false,"IL":"NONE","IF":[],"IT":"NONE",'
    '"ID":"","CT":"","CI":"","RD":[{"TM":"2021-10-26T12:24:56,000+0000 S","TX":"B","RV":0,'
    '"RI":"1-0:1.8.1","RU":"Wh","RT":"AC","EF":"","ST":"G"}]}|{"SD":"306502305E1ACEB5DFFC89FC923'
    "3D323851CC6D4F95D48721949D3F984C9A6FA25C68655B365E3D22447B3F1A44AB4DE5EDA9AE90231008AFC7C19"
    '9CA9A015DE46F8DF6D1D8F7F7A172282EE4159D4136D102E07F198660D5717E9681CF5842EA636FCAB7CBB0D",'
    '"SA":"ECDSA-secp384r1-SHA256"}'
)

# …/test.xml: eBZ LD3, secp192r1, Wh, B and E in one record.
EBZ_KEY = (
    "3049301306072a8648ce3d020106082a8648ce3d030101033200041e155ef46fbcc56005769c08d792127c006c"
    "242ccccd96bf7051b6fbc278497036659e7bae57f542776a17c7f8b28600"
)
EBZ = (
    'OCMF|{"FV":"1.0","GI":"eBZ LD3","GS":"1EBZ0300034628","GV":"V207","MS":"1EBZ0300034628",'
    '"PG":"T117","IS":true,"IL":"TRUSTED","IT":"EMAID","ID":"DKV_Testbox2","CI":"Dies",'
    '"CT":"EVSEID","RD":[{"TM":"2022-10-27T19:15:20,000+0200 I","TX":"B","RV":2850685,'
    '"RI":"1-b:1.8.e","RU":"Wh","ST":"G"},{"TM":"2022-10-27T19:20:06,000+0200 I","TX":"E",'
    '"RV":2850951,"RI":"1-b:1.8.e","RU":"Wh","ST":"G"}]}|{"SA":"ECDSA-secp192r1-SHA256",'
    '"SD":"303402184b322dbd3e5fcf5d4d0d2334052080ea6791c7126839237f021879989dcbf73069c5abebea76'
    'bd9268ccff2c56edb8faf409"}'
)

# …/xml/test_ocmf_transaction_two_values.xml: has.to.be generated, secp192k1, Begin and End
# records, each with an X (error) reading besides B or E. The XML's first record has whitespace
# around it, kept here.
HTB_KEY = (
    "3046301006072A8648CE3D020106052B8104001F03320004C2006542218BB27F5E0B945C5F9D158867B666B3BB"
    "4414ABC6569489A8F7985020C77F0F32A4B4E183A3056127C34869"
)
HTB_HEAD = (
    '{"FV":"1.0","GI":"HTB","GS":"HTBSerial","GV":"0.0.1","PG":"T12345","MV":"HTB","MM":"HTB",'
    '"MS":"HTBGenerated1","MF":"1.0","IS":true,"IL":"VERIFIED","IF":["RFID_PLAIN","OCPP_RS_TLS"],'
    '"IT":"ISO14443","ID":"%s","CI":"HTB","CT":"CBIDC","RD":[{"TM":"2019-04-02T17:%s,867+0200 S",'
    '"TX":"%s","RV":%s,"RI":"1-b:1.8.e","RU":"kWh","EI":1523,"ST":"G"},{"TM":"2019-04-02T17:%s,'
    '867+0200 S","TX":"%s","RV":%s,"RI":"1-b:1.8.e","RU":"kWh","EI":1523,"ST":"G"}]}'
)
HTB_BEGIN = (
    "\n        OCMF|"
    + HTB_HEAD % ("8D2E2D536DCFD0", "28:45", "B", "3.51824", "28:45", "X", "7.01047")
    + '|{"SA":"ECDSA-secp192k1-SHA256","SD":"303402185A5E62A58B45C10C37166B7E43D26296D79C450DF'
    '30C2FA4021822099CFAEB793D9246FAE130C93964B43FC4C5F2CF1732E1"}\n        '
)
HTB_END = (
    "OCMF|"
    + HTB_HEAD % ("D12485D464E500", "39:10", "X", "9.43621", "39:10", "E", "12.64134")
    + '|{"SA":"ECDSA-secp192k1-SHA256","SD":"3035021900AD05AAF3958E32F798B4DBF9F217C8DF0214FFA1'
    'EF10B84A02185DA76499F3785AD7B94734314662162408A330A959B22D3C"}'
)

# ---------------------------------------------------------------------------------------------
# secp192k1 for signing in the tests, written out from SEC 2 v2 §2.2.1 independently of the
# module under test, so a wrong constant there cannot pass by agreeing with itself here.
SECP192K1_P = int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFEE37", 16)
SECP192K1_N = int("FFFFFFFFFFFFFFFFFFFFFFFE26F2FC170F69466A74DEFD8D", 16)
SECP192K1_G = (
    int("DB4FF10EC057E9AE26B07D0280B7F4341DA5D1B1EAE06C7D", 16),
    int("9B2F2F6D9C5628A7844163D015BE86344082AA88D95E2F9D", 16),
)


def secp192k1() -> ecdsa.curves.Curve:
    field = ecdsa.ellipticcurve.CurveFp(SECP192K1_P, 0, 3, 1)
    g = ecdsa.ellipticcurve.PointJacobi(field, *SECP192K1_G, 1, SECP192K1_N, generator=True)
    return ecdsa.curves.Curve("secp192k1 (test)", field, g, (1, 3, 132, 0, 31))


def payload(*readings: dict[str, Any], serial: str = "MTR-1", **fields: Any) -> str:
    """An OCMF payload section; RV values given as strings go in as JSON numbers, as written."""
    rd = ",".join(
        "{" + ",".join(f'"{k}":{v if k == "RV" else json.dumps(v)}' for k, v in r.items()) + "}"
        for r in readings
    )
    head = {"FV": "1.0", "GI": "Test gateway", "GS": "GW-1", "PG": "T7", "MV": "Vendor"}
    head |= {"MM": "Model", "MS": serial, "IS": False, "IT": "NONE"} | fields
    return json.dumps(head, separators=(",", ":"))[:-1] + ',"RD":[' + rd + "]}"


def reading(tx: str, rv: str, unit: str = "kWh", **more: str) -> dict[str, Any]:
    fields = {"TM": "2024-05-01T10:00:00,000+0000 S", "TX": tx, "RV": rv}
    return fields | {"RI": "1-b:1.8.0", "RU": unit, "EF": "", "ST": "G"} | more


def signed(
    section: str,
    key: ec.EllipticCurvePrivateKey,
    algorithm: str = "ECDSA-secp256r1-SHA256",
    **extra: str,
) -> str:
    sd = key.sign(section.encode(), ec.ECDSA(hashes.SHA256())).hex().upper()
    return f"OCMF|{section}|" + json.dumps({"SA": algorithm, "SD": sd, **extra})


def spki_hex(key: ec.EllipticCurvePrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return der.hex()


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def value(nature: str, record: str) -> dict[str, str]:
    return {"nature": nature, "plain_data": record, "signed_data": record}


# ---------------------------------------------------------------------------------------------
# One record


def test_the_simulators_signature_is_valid() -> None:
    record, public_key = MeterSigner().sign_readings(
        Decimal("100"), Decimal("112.5"), START, END, "SIM-1"
    )
    result = verify_ocmf(record, public_key)
    assert result.status == "valid", result.reason
    assert "cryptography" in result.reason
    assert result.meter_serial == "SIM-1"
    assert [r.type for r in result.readings] == ["B", "E"]
    assert [r.value for r in result.readings] == [Decimal("100.000"), Decimal("112.500")]


def test_one_changed_digit_makes_it_invalid() -> None:
    record, public_key = MeterSigner().sign_readings(
        Decimal("100"), Decimal("112.5"), START, END, "SIM-1"
    )
    tampered = record.replace('"RV":112.500', '"RV":112.600')
    assert tampered != record
    result = verify_ocmf(tampered, public_key)
    assert result.status == "invalid"
    assert "changed after signing" in result.reason
    assert result.readings[1].value == Decimal("112.600")  # still shown, as what it claims


def test_another_meters_key_makes_it_invalid() -> None:
    record, _ = MeterSigner().sign_readings(Decimal(1), Decimal(2), START, END, "SIM-1")
    _, other_key = MeterSigner().sign_readings(Decimal(1), Decimal(2), START, END, "SIM-2")
    assert verify_ocmf(record, other_key).status == "invalid"


def test_secp192k1_is_verified_through_ecdsa() -> None:
    private = ecdsa.SigningKey.generate(curve=secp192k1())
    public_hex = private.get_verifying_key().to_der(point_encoding="uncompressed").hex()
    section = payload(reading("B", "10.00"), reading("E", "20.00"))
    sd = private.sign_deterministic(
        section.encode(), hashfunc=hashlib.sha256, sigencode=ecdsa.util.sigencode_der
    )
    record = f'OCMF|{section}|{{"SA":"ECDSA-secp192k1-SHA256","SD":"{sd.hex()}"}}'
    result = verify_ocmf(record, public_hex)
    assert result.status == "valid", result.reason
    assert "ecdsa" in result.reason
    assert verify_ocmf(record.replace("20.00", "21.00"), public_hex).status == "invalid"


def test_the_simulators_secp192k1_meter_verifies() -> None:
    record, public_key = MeterSigner("secp192k1").sign_readings(
        Decimal(1), Decimal(2), START, END, "K1"
    )
    assert verify_ocmf(record, public_key).status == "valid"


def test_an_algorithm_nobody_here_supports_cannot_be_verified(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    record = signed(payload(reading("B", "1.00")), key, algorithm="ECDSA-secp224k1-SHA256")
    result = verify_ocmf(record, spki_hex(key))
    assert result.status == "cannot_verify"
    assert "cannot verify here" in result.reason
    assert result.readings  # the record is still read and shown

    rsa = signed(payload(reading("B", "1.00")), key, algorithm="RSA-2048-SHA256")
    assert verify_ocmf(rsa, spki_hex(key)).status == "cannot_verify"


def test_secp192k1_without_the_ecdsa_package_cannot_be_verified(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ocmf, "_ecdsa", None)
    result = verify_ocmf(HTB_END, HTB_KEY)
    assert result.status == "cannot_verify"
    assert "supported neither by cryptography nor by ecdsa" in result.reason
    assert "cannot verify here" in result.reason


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "OCMF",
        "OCMF|{}",
        "OCMF|{not json}|{}",
        'OCMF|{"RD":[]}|{"SD":"00"}',  # no readings
        'OCMF|{"RD":"x"}|{"SD":"00"}',
        'OCMF|["RD"]|{"SD":"00"}',
        'OCMF|{"RD":[{"RV":1}]}|{"SD":"zz"}',  # SD not hex
        'OCMF|{"RD":[{"RV":1}]}|{"SE":"base64","SD":"@@"}',
        'OCMF|{"RD":[{"RV":1}]}|{"SD":""}',
        'OCMF|{"RD":[{"RV":1}],"RD":[{"RV":2}]}|{"SD":"00"}',  # a repeated key
        'XOCMF|{"RD":[{"RV":1}]}|{"SD":"00"}',
        'OCMF|{"RD":[{"RV":1}]}|{"SD":"00"}|extra',
        b"OCMF|\xff\xfe|{}",
    ],
)
def test_garbage_is_unreadable(garbage: str | bytes) -> None:
    result = verify_ocmf(garbage, KEBA_KEY)
    assert result.status == "unreadable"
    assert result.reason


def test_a_payload_nested_past_what_a_parser_recurses_into_is_not_json() -> None:
    deep = "OCMF|" + '{"RD":' * 5_000 + "1" + "}" * 5_000 + '|{"SD":"00"}'
    with pytest.raises(ocmf.OcmfFormatError, match="payload section is not JSON"):
        parse_ocmf(deep)
    assert verify_ocmf(deep, KEBA_KEY).reason == "the payload section is not JSON"


def test_parse_ocmf_keeps_the_payload_bytes_and_inherits_omitted_fields() -> None:
    section = (
        '{"MS":"M","RD":[{"TM":"2024-05-01T10:00:00,000+0200 S","TX":"B","RV":1.50,'
        '"RI":"1-b:1.8.0","RU":"kWh","ST":"G"},'
        '{"TM":"2024-05-01T11:00:00,000+0200 S","TX":"E","RV":2.75}]}'
    )
    parsed = parse_ocmf(f'  OCMF|{section}|{{"SD":"00"}}\n')
    assert parsed.payload_bytes == section.encode()
    begin, end = parsed.readings
    assert begin.value == Decimal("1.50")
    assert str(begin.value) == "1.50"  # the meter's digits, not a float's
    assert (end.unit, end.obis, end.status) == ("kWh", "1-b:1.8.0", "G")  # inherited
    assert end.time == datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    assert end.time_sync == "S"
    assert begin.resolution_kwh == Decimal("0.01")


def test_a_key_for_another_curve_is_invalid(key: ec.EllipticCurvePrivateKey) -> None:
    record = signed(payload(reading("B", "1.00")), key)
    other = ec.generate_private_key(ec.SECP384R1())
    result = verify_ocmf(record, spki_hex(other))
    assert result.status == "invalid"
    assert "secp384r1" in result.reason


def test_key_forms_ocpi_peers_send(key: ec.EllipticCurvePrivateKey) -> None:
    record = signed(payload(reading("B", "1.00")), key)
    der = bytes.fromhex(spki_hex(key))
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for form in (
        der.hex(),
        der.hex().upper(),
        " ".join(der.hex()[i : i + 4] for i in range(0, len(der.hex()), 4)),
        base64.b64encode(der).decode(),  # what OCPI's "base64" asks for
        base64.b64encode(der.hex().encode()).decode(),  # base64 of the hex text
        pem.decode(),
        point.hex(),  # a bare point: the curve comes from SA
        der,
    ):
        assert verify_ocmf(record, form).status == "valid", form


@pytest.mark.parametrize("public_key", [None, "", "   ", "not a key!", "3000", "AAAA", 42])
def test_without_a_usable_key_it_cannot_be_verified(
    key: ec.EllipticCurvePrivateKey, public_key: Any
) -> None:
    record = signed(payload(reading("B", "1.00")), key)
    result = verify_ocmf(record, public_key)
    assert result.status == "cannot_verify"
    assert result.readings


def test_base64_signature_encoding(key: ec.EllipticCurvePrivateKey) -> None:
    section = payload(reading("B", "1.00"))
    sd = key.sign(section.encode(), ec.ECDSA(hashes.SHA256()))
    record = f'OCMF|{section}|{{"SE":"base64","SD":"{base64.b64encode(sd).decode()}"}}'
    assert verify_ocmf(record, spki_hex(key)).status == "valid"


# ---------------------------------------------------------------------------------------------
# Real records


@pytest.mark.parametrize(
    ("record", "public_key", "algorithm"),
    [
        (KEBA, KEBA_KEY, "ECDSA-secp256r1-SHA256"),
        (NZR_BEGIN, NZR_KEY, "ECDSA-brainpoolP256r1-SHA256"),
        (NZR_END, NZR_KEY, "ECDSA-brainpoolP256r1-SHA256"),
        (NZR384_BEGIN, NZR384_KEY, "ECDSA-secp384r1-SHA256"),
        (EBZ, EBZ_KEY, "ECDSA-secp192r1-SHA256"),
        (HTB_BEGIN, HTB_KEY, "ECDSA-secp192k1-SHA256"),
        (HTB_END, HTB_KEY, "ECDSA-secp192k1-SHA256"),
    ],
)
def test_published_records_verify(record: str, public_key: str, algorithm: str) -> None:
    result = verify_ocmf(record, public_key)
    assert result.status == "valid", result.reason
    assert result.algorithm == algorithm
    assert verify_ocmf(record.replace('"ST":"G"', '"ST":"F"', 1), public_key).status == "invalid"


def test_a_published_record_tells_its_meter() -> None:
    result = verify_ocmf(NZR_BEGIN, NZR_KEY)
    assert (result.meter_vendor, result.meter_model) == ("NZR", "EcoCount SL")
    assert (result.meter_serial, result.meter_firmware) == ("12345678", "1.11")
    assert (result.gateway_id, result.gateway_serial, result.pagination) == (
        "NZR GATEWAY",
        "21751020",
        "T274",
    )
    assert result.readings[0].unit == "Wh"
    assert result.readings[0].kwh == Decimal("1.833")
    assert result.meter == "NZR EcoCount SL serial 12345678"


# ---------------------------------------------------------------------------------------------
# A CDR's signed data: signatures and energy


def simulator_cdr(billed: str) -> Any:
    record, public_key = MeterSigner().sign_readings(
        Decimal("1000"), Decimal("1012.345"), START, END, "SIM-METER"
    )
    return check_signed_data([value("End", record)], public_key, Decimal(billed))


def test_billed_energy_equal_to_the_signed_readings_is_all_good() -> None:
    report = simulator_cdr("12.345")
    assert report.all_good
    assert report.energy.status == "match"
    assert report.energy.signed_kwh == Decimal("12.345")
    assert report.summary.startswith("Everything checks out")
    assert "12.345 kWh" in report.summary


def test_billed_energy_0_1_kwh_off_is_flagged() -> None:
    for billed in ("12.445", "12.245"):
        report = simulator_cdr(billed)
        assert not report.all_good
        assert report.energy.status == "mismatch"
        assert report.items[0].status == "valid"  # the signature is fine; the bill is not
        assert "0.100 kWh" in report.summary
    assert "more than the signed" in simulator_cdr("12.445").energy.reason
    assert "less than the signed" in simulator_cdr("12.245").energy.reason


def test_within_the_meters_resolution_is_good_and_a_whole_step_is_not() -> None:
    close = simulator_cdr("12.3459")  # the meter counts whole Wh: 0.9 Wh is below a step
    assert close.all_good
    assert close.energy.status == "within_resolution"
    assert close.energy.tolerance_kwh == Decimal("0.001")
    assert "within the meter's resolution" in close.summary
    assert simulator_cdr("12.346").energy.status == "mismatch"  # one whole Wh


def test_start_and_end_in_separate_values_in_wh(key: ec.EllipticCurvePrivateKey) -> None:
    start = signed(payload(reading("B", "1234567", unit="Wh")), key)
    end = signed(
        payload(reading("E", "1246912", unit="Wh", TM="2024-05-01T11:00:00,000+0000 S")), key
    )
    values = [value("Start", start), value("End", end)]
    report = check_signed_data(values, spki_hex(key), Decimal("12.345"))
    assert report.all_good, report.summary
    assert report.energy.signed_kwh == Decimal("12.345")
    assert report.energy.tolerance_kwh == Decimal("0.001")
    off = check_signed_data(values, spki_hex(key), Decimal("12.445"))
    assert not off.all_good
    assert off.energy.status == "mismatch"


def test_readings_without_tx_fall_back_to_the_values_nature(
    key: ec.EllipticCurvePrivateKey,
) -> None:
    start = signed(
        payload({"TM": "2024-05-01T10:00:00,000+0000 S", "RV": "5.0", "RU": "kWh", "ST": "G"}), key
    )
    end = signed(
        payload({"TM": "2024-05-01T11:00:00,000+0000 S", "RV": "7.5", "RU": "kWh", "ST": "G"}), key
    )
    report = check_signed_data(
        [value("Start", start), value("End", end)], spki_hex(key), Decimal("2.5")
    )
    assert report.all_good, report.summary


def test_published_wh_record_matches() -> None:
    # eBZ LD3: 2850951 Wh − 2850685 Wh = 266 Wh.
    report = check_signed_data([value("End", EBZ)], EBZ_KEY, Decimal("0.266"))
    assert report.all_good, report.summary
    nzr = check_signed_data(
        [value("Start", NZR_BEGIN), value("End", NZR_END)], NZR_KEY, Decimal("0")
    )
    assert nzr.all_good, nzr.summary
    assert nzr.energy.signed_kwh == Decimal("0.000")


def test_published_record_with_an_error_reading_is_not_all_good() -> None:
    report = check_signed_data(
        [value("Start", HTB_BEGIN), value("End", HTB_END)], HTB_KEY, Decimal("9.12310")
    )
    assert [item.status for item in report.items] == ["valid", "valid"]
    assert report.energy.status == "unusable"
    assert "X reading" in report.energy.reason
    assert not report.all_good


def test_the_same_record_sent_as_start_and_end_counts_once() -> None:
    report = check_signed_data(
        [value("Start", KEBA), value("End", KEBA)], KEBA_KEY, Decimal("0.0001")
    )
    assert report.all_good, report.summary


def test_one_bad_value_spoils_the_lot(key: ec.EllipticCurvePrivateKey) -> None:
    start = signed(payload(reading("B", "1.00")), key)
    end = signed(payload(reading("E", "2.00")), key).replace("2.00", "3.00")
    report = check_signed_data(
        [value("Start", start), value("End", end)], spki_hex(key), Decimal(2)
    )
    assert [item.status for item in report.items] == ["valid", "invalid"]
    assert not report.all_good
    assert "the End value has an invalid signature" in report.summary
    assert report.energy.status == "match"
    assert "by readings whose signature is not valid" in report.energy.reason


def test_meter_trouble_makes_the_readings_unusable(key: ec.EllipticCurvePrivateKey) -> None:
    cases = [
        (reading("B", "1.00"), reading("E", "2.00", ST="M")),  # manipulation detected
        (reading("B", "1.00", EF="E"), reading("E", "2.00")),  # energy flagged unusable
        (reading("B", "1.00"), reading("E", "2.00", RI="1-b:2.8.0")),  # another register
        (reading("B", "3.00"), reading("E", "2.00")),  # backwards
        (reading("B", "1.00"), reading("E", "2.00", RU="mOhm")),  # not energy
        (reading("B", "1.00"), reading("E", "2.00", TM="2024-05-01T09:00:00,000+0000 S")),
    ]
    for begin, end in cases:
        record = signed(payload(begin, end), key)
        report = check_signed_data([value("End", record)], spki_hex(key), Decimal(1))
        assert report.energy.status == "unusable", (begin, end)
        assert not report.all_good


def test_readings_of_two_meters_are_not_compared(key: ec.EllipticCurvePrivateKey) -> None:
    start = signed(payload(reading("B", "1.00"), serial="A"), key)
    end = signed(payload(reading("E", "2.00"), serial="B"), key)
    report = check_signed_data(
        [value("Start", start), value("End", end)], spki_hex(key), Decimal(1)
    )
    assert report.energy.status == "unusable"
    assert "different meter serials" in report.energy.reason


def test_missing_start_or_end(key: ec.EllipticCurvePrivateKey) -> None:
    only_start = signed(payload(reading("B", "1.00")), key)
    report = check_signed_data([value("Start", only_start)], spki_hex(key), Decimal(1))
    assert report.energy.status == "unusable"
    assert "no end" in report.energy.reason


def test_other_encodings_are_shown_not_verified() -> None:
    values = [{"nature": "Start", "plain_data": "...", "signed_data": "AQID"}]
    report = check_signed_data(values, "", Decimal(1), encoding_method="Alfen Eichrecht")
    assert not report.all_good
    assert report.items[0].status == "not_verified"
    assert report.items[0].verification is None
    assert "shown for the driver's transparency software, not verified here" in report.items[0].note
    assert "transparency software" in report.summary
    assert report.energy.status == "not_checked"


def test_a_whole_signed_data_object() -> None:
    signed_data = {
        "encoding_method": "OCMF",
        "encoding_method_version": 1,
        "public_key": base64.b64encode(bytes.fromhex(KEBA_KEY)).decode(),
        "signed_values": [
            {
                "nature": "End",
                "plain_data": "",
                "signed_data": base64.b64encode(KEBA.encode()).decode(),
            }
        ],
        "url": "https://example.org/verify",
    }
    assert check_cdr_signed_data(signed_data, Decimal("0.0001")).all_good
    other = signed_data | {"encoding_method": "EDL40 E-Mobility Extension"}
    assert check_cdr_signed_data(other, Decimal("0.0001")).items[0].status == "not_verified"


def test_no_billed_energy_is_not_checked() -> None:
    report = check_signed_data([value("End", KEBA)], KEBA_KEY, None)  # type: ignore[arg-type]
    assert report.energy.status == "not_checked"
    assert not report.all_good
    assert "0.0001 kWh" in report.energy.reason


@pytest.mark.parametrize(
    ("signed_values", "public_key", "billed"),
    [
        (None, KEBA_KEY, Decimal(1)),
        ("OCMF|x|y", KEBA_KEY, Decimal(1)),
        ([], KEBA_KEY, Decimal(1)),
        ([None, 3, "x", []], KEBA_KEY, Decimal(1)),
        ([{"nature": 5, "signed_data": 7, "plain_data": None}], 12, "abc"),
        ([{"nature": "End", "signed_data": "T0NNRnx4fHk="}], KEBA_KEY, Decimal("NaN")),
        ([value("End", KEBA)], {"not": "a key"}, 0.0001),
        ([value("End", 'OCMF|{"RD":[{"RV":1e999999999}]}|{"SD":"00"}')], KEBA_KEY, Decimal(1)),
    ],
)
def test_never_raises(signed_values: Any, public_key: Any, billed: Any) -> None:
    report = check_signed_data(signed_values, public_key, billed)
    assert not report.all_good
    assert report.summary
    assert check_cdr_signed_data(signed_values, billed).summary


def test_an_unreadable_value_is_a_finding(key: ec.EllipticCurvePrivateKey) -> None:
    good = signed(payload(reading("B", "1.00"), reading("E", "2.00")), key)
    report = check_signed_data(
        [
            value("End", good),
            {"nature": "Intermediate", "signed_data": "garbage", "plain_data": ""},
        ],
        spki_hex(key),
        Decimal(1),
    )
    assert [item.status for item in report.items] == ["valid", "unreadable"]
    assert report.energy.status == "match"
    assert not report.all_good
    assert "the Intermediate value is unreadable" in report.summary
