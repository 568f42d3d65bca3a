"""Eichrecht: check the signed meter values a CPO sends in a CDR's `signed_data` (checklist CDR-08).

German calibration law lets the driver check the energy they pay for against the meter's own
signed readings. OCPI 2.2.1 carries them in `CDR.signed_data` (SignedData: `encoding_method`,
`public_key`, `signed_values` [{`nature`, `plain_data`, `signed_data`}], `url`). This module reads
the encoding with a public specification, OCMF (Open Charge Metering Format, S.A.F.E. e.V.:
`OCMF|{payload}|{signature}`), checks each record's ECDSA signature over the payload section's
exact bytes, and checks that the billed energy is what the signed start and end readings say.
Other encodings are kept for the driver's transparency software and reported as not verified here.

Nothing here raises on bad input: a CPO's unreadable data is a finding to show the driver and an
operator, never a crash in CDR handling. This module only reads; storing the data byte-exact is
the CDR receiver's job (CDR-08).

Curves. OCMF (table 22) names seven ECDSA curves, each with SHA-256. `cryptography` (OpenSSL)
checks secp192r1, secp256r1, secp256k1, secp384r1, brainpoolP256r1 and brainpoolP384r1. The pure
Python `ecdsa` package checks secp192k1, which real meters use and OpenSSL does not offer (the
curve is defined below from SEC 2, since `ecdsa` does not ship it either), and stands in for any
of the others a local OpenSSL build has switched off. Any other algorithm: "cannot_verify".

Where things sit. OCPI says `signed_data` and `public_key` are base64; in practice CPOs send the
OCMF string as it is or base64-encoded, and the key as hex or base64 DER (SubjectPublicKeyInfo),
so all of these are accepted. The OCMF string is taken from `signed_data`, else `plain_data`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Final, Literal, TypedDict, Unpack

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

try:  # the fallback for curves OpenSSL lacks; without it those curves are "cannot_verify"
    import ecdsa as _ecdsa
    from ecdsa.der import UnexpectedDER as _EcdsaDerError
    from ecdsa.errors import MalformedPointError as _EcdsaPointError
    from ecdsa.keys import BadSignatureError as _EcdsaBadSignature
except ImportError:  # pragma: no cover - ecdsa is a declared dependency
    _ecdsa = None
    _EcdsaDerError = _EcdsaPointError = _EcdsaBadSignature = ValueError

logger = logging.getLogger(__name__)

Status = Literal["valid", "invalid", "cannot_verify", "unreadable"]
EnergyStatus = Literal["match", "within_resolution", "mismatch", "unusable", "not_checked"]

HEADER: Final = b"OCMF"
DEFAULT_ALGORITHM: Final = "ECDSA-secp256r1-SHA256"  # OCMF's default when SA is left out
BEGIN: Final = frozenset({"B"})
# E ends a transaction; L, R, A and P are its more precise forms (local, remote, abort, power).
END: Final = frozenset({"E", "L", "R", "A", "P"})
KWH_PER_UNIT: Final = {"kwh": 0, "wh": -3}  # power of ten from the reading's unit to kWh

_EC_PUBLIC_KEY_OID: Final = "1.2.840.10045.2.1"
_HEX: Final = re.compile(r"[0-9A-Fa-f]+")
_ALGORITHM: Final = re.compile(r"ECDSA-(?P<curve>[A-Za-z0-9]+)-(?P<hash>SHA-?\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class _Curve:
    """One OCMF curve: how to recognise it (names, key OID) and who can check it."""

    name: str  # as OCMF writes it
    oid: str  # the namedCurve OID in a SubjectPublicKeyInfo
    size: int  # bytes per coordinate, for raw points and raw r||s signatures
    openssl: ec.EllipticCurve | None  # cryptography's curve, when OpenSSL has it
    ecdsa_name: str | None  # the `ecdsa` package's curve; "secp192k1" is built here


_CURVES: Final = (
    _Curve("secp192k1", "1.3.132.0.31", 24, None, "secp192k1"),
    _Curve("secp256k1", "1.3.132.0.10", 32, ec.SECP256K1(), "SECP256k1"),
    _Curve("secp192r1", "1.2.840.10045.3.1.1", 24, ec.SECP192R1(), "NIST192p"),
    _Curve("secp256r1", "1.2.840.10045.3.1.7", 32, ec.SECP256R1(), "NIST256p"),
    _Curve("brainpoolP256r1", "1.3.36.3.3.2.8.1.1.7", 32, ec.BrainpoolP256R1(), "BRAINPOOLP256r1"),
    _Curve("secp384r1", "1.3.132.0.34", 48, ec.SECP384R1(), "NIST384p"),
    _Curve("brainpoolP384r1", "1.3.36.3.3.2.8.1.1.11", 48, ec.BrainpoolP384R1(), "BRAINPOOLP384r1"),
)
_BY_OID: Final = {curve.oid: curve for curve in _CURVES}
# OCMF writes "brainpool256r1"; meters in the field write "brainpoolP256r1". Both are accepted,
# as are the NIST synonyms the specification lists.
_BY_NAME: Final = {
    **{curve.name.lower(): curve for curve in _CURVES},
    "brainpool256r1": _BY_OID["1.3.36.3.3.2.8.1.1.7"],
    "brainpool384r1": _BY_OID["1.3.36.3.3.2.8.1.1.11"],
    "prime192v1": _BY_OID["1.2.840.10045.3.1.1"],
    "prime256v1": _BY_OID["1.2.840.10045.3.1.7"],
}

# secp192k1 from SEC 2 v2 (Certicom, 2010), section 2.2.1: y² = x³ + 3 over F_p.
_SECP192K1_P: Final = 0xFFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFE_FFFFEE37
_SECP192K1_N: Final = 0xFFFFFFFF_FFFFFFFF_FFFFFFFE_26F2FC17_0F69466A_74DEFD8D
_SECP192K1_GX: Final = 0xDB4FF10E_C057E9AE_26B07D02_80B7F434_1DA5D1B1_EAE06C7D
_SECP192K1_GY: Final = 0x9B2F2F6D_9C5628A7_844163D0_15BE8634_4082AA88_D95E2F9D


class _Finding(Exception):
    """Stops a check early with its outcome; never leaves this module."""

    def __init__(self, status: Status, reason: str) -> None:
        super().__init__(reason)
        self.status: Status = status
        self.reason = reason


@dataclass(frozen=True)
class Reading:
    """One meter reading from an OCMF record (`RD`), its value exactly as the meter wrote it."""

    time: datetime | None  # `TM`, None when it cannot be read as ISO 8601 with an offset
    time_text: str  # `TM` as written, e.g. "2018-07-24T13:22:04,000+0200 S"
    time_sync: str | None  # S synchronised, U unknown, I informative, R relative
    type: str | None  # `TX`: B begin, C charging, X error, E/L/R/A/P end, S suspended, T tariff
    value: Decimal | None  # `RV`, None when the reading only reports an error event
    unit: str | None  # `RU`: kWh, Wh, …
    obis: str | None  # `RI`, e.g. "1-b:1.8.0"
    status: str | None  # `ST`: G is a good meter, anything else an error state
    error_flags: str  # `EF`: "E" energy, "t" time unusable; "" none
    current_type: str | None  # `RT`: AC or DC

    @property
    def kwh(self) -> Decimal | None:
        """The value in kWh (Wh shifted by three places, exactly), or None if not energy."""
        shift = KWH_PER_UNIT.get((self.unit or "").lower())
        if self.value is None or shift is None:
            return None
        return self.value.scaleb(shift)

    @property
    def resolution_kwh(self) -> Decimal | None:
        """One step of the last digit the meter wrote, in kWh: 2935.6 kWh → 0.1, 7753 Wh → 0.001.

        OCMF forbids rewriting RV's digits between meter and verifier because the digits are the
        meter's stated accuracy; that is what the energy check's tolerance is read from."""
        shift = KWH_PER_UNIT.get((self.unit or "").lower())
        if self.value is None or shift is None:
            return None
        exponent = self.value.as_tuple().exponent
        if not isinstance(exponent, int):
            return None
        return Decimal(1).scaleb(exponent + shift)


@dataclass(frozen=True)
class Verification:
    """What one OCMF record says and whether its signature holds.

    `status`: "valid" (the signature matches this key), "invalid" (it does not: the data was
    changed after signing, or the key is not this meter's), "cannot_verify" (no usable key, or an
    algorithm neither library here can check) or "unreadable" (not OCMF we can parse)."""

    status: Status
    reason: str
    gateway_id: str | None = None  # GI: manufacturer and model of the signing component
    gateway_serial: str | None = None  # GS
    gateway_version: str | None = None  # GV
    meter_vendor: str | None = None  # MV: the meter's manufacturer
    meter_model: str | None = None  # MM
    meter_serial: str | None = None  # MS
    meter_firmware: str | None = None  # MF (OCMF: firmware version, not the manufacturer)
    pagination: str | None = None  # PG, e.g. "T12"
    algorithm: str | None = None  # SA as given; when left out, the default once it is checked
    readings: tuple[Reading, ...] = ()
    # Identification (IS, IT, ID): whom the meter was told it charges for, e.g. IT "CENTRAL"
    # and ID the token's uid for a session started by the backend, "ISO14443" and a card's uid.
    identified: bool | None = None  # IS
    identification_type: str | None = None  # IT; "NONE" or "UNDEFINED" when unidentified
    identification: str | None = None  # ID

    @property
    def meter(self) -> str:
        """The meter in words, for the driver: vendor, model and serial as far as known."""
        parts = [
            self.meter_vendor,
            self.meter_model,
            self.gateway_id if not self.meter_vendor else None,
        ]
        words = " ".join(part for part in parts if part)
        serial = self.meter_serial or self.gateway_serial
        if serial:
            words = f"{words} serial {serial}" if words else f"serial {serial}"
        return words or "an unnamed meter"


@dataclass(frozen=True)
class ParsedOcmf:
    """An OCMF record split into its sections; `payload_bytes` is exactly what was signed."""

    payload_bytes: bytes
    payload: Mapping[str, Any]
    signature: Mapping[str, Any]
    readings: tuple[Reading, ...]


class OcmfFormatError(ValueError):
    """The text is not an OCMF record this module can read."""


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_ocmf(ocmf: str | bytes) -> ParsedOcmf:
    """Split and parse `OCMF|{payload}|{signature}`; raises OcmfFormatError.

    Only whitespace around the whole record is dropped: the payload section is kept byte for byte,
    since the signature covers exactly those bytes (OCMF: no whitespace may be added or removed).
    JSON numbers become Decimals as written, so `RV` keeps its digits."""
    data = ocmf.encode("utf-8") if isinstance(ocmf, str) else bytes(ocmf)
    sections = data.strip().split(b"|")
    if len(sections) != 3 or sections[0] != HEADER:
        raise OcmfFormatError("not an OCMF record: expected OCMF|{payload}|{signature}")
    payload = _json_object(sections[1], "payload")
    signature = _json_object(sections[2], "signature")
    raw_readings = payload.get("RD")
    if not isinstance(raw_readings, list) or not raw_readings:
        raise OcmfFormatError("the payload has no readings (RD)")
    return ParsedOcmf(sections[1], payload, signature, _readings(raw_readings))


def _json_object(section: bytes, name: str) -> dict[str, Any]:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # Two RV keys would let one tool show one value and another tool the other.
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise OcmfFormatError(f"the {name} section repeats a key")
        return dict(pairs)

    try:
        value = json.loads(
            section.decode("utf-8"),
            parse_float=Decimal,
            parse_int=Decimal,
            object_pairs_hook=no_duplicates,
        )
    # RecursionError: a section nested thousands deep (a string in a CDR, not bounded by the
    # depth check its body passed).
    except (UnicodeDecodeError, json.JSONDecodeError, InvalidOperation, RecursionError) as exc:
        raise OcmfFormatError(f"the {name} section is not JSON") from exc
    if not isinstance(value, dict):
        raise OcmfFormatError(f"the {name} section is not a JSON object")
    return value


def _readings(raw: list[Any]) -> tuple[Reading, ...]:
    """OCMF leaves out fields equal to the previous reading's in the same record, so each reading
    inherits them; only RV is never inherited (a reading without RV reports an error event)."""
    readings: list[Reading] = []
    previous: dict[str, Any] = {}
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise OcmfFormatError(f"reading {index} is not a JSON object")
        fields = {key: value for key, value in previous.items() if key != "RV"} | item
        previous = fields
        time_text = _text(fields.get("TM")) or ""
        time, sync = _parse_time(time_text)
        readings.append(
            Reading(
                time=time,
                time_text=time_text,
                time_sync=sync,
                type=_text(fields.get("TX")),
                value=_decimal(fields.get("RV")),
                unit=_text(fields.get("RU")),
                obis=_text(fields.get("RI")),
                status=_text(fields.get("ST")),
                error_flags=_text(fields.get("EF")) or "",
                current_type=_text(fields.get("RT")),
            )
        )
    return tuple(readings)


def _parse_time(text: str) -> tuple[datetime | None, str | None]:
    """`2018-07-24T13:22:04,000+0200 S` → the moment (None unless it has an offset) and the flag."""
    parts = text.split()
    sync = parts[1] if len(parts) > 1 else None
    try:
        moment = datetime.fromisoformat(parts[0].replace(",", ".")) if parts else None
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is None:
        moment = None
    return moment, sync


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return None


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            return None
    if isinstance(value, Decimal) and value.is_finite():
        return value
    return None


# ---------------------------------------------------------------------------------------------
# Verifying one record


class _Found(TypedDict):
    """What `verify_ocmf` read from the record, whatever the signature turns out to be."""

    gateway_id: str | None
    gateway_serial: str | None
    gateway_version: str | None
    meter_vendor: str | None
    meter_model: str | None
    meter_serial: str | None
    meter_firmware: str | None
    pagination: str | None
    readings: tuple[Reading, ...]
    identified: bool | None
    identification_type: str | None
    identification: str | None


def verify_ocmf(ocmf: str | bytes, public_key: str | bytes | None) -> Verification:
    """Parse one OCMF record and check its signature with `public_key`.

    The key may be hex or base64 DER (SubjectPublicKeyInfo), PEM, or a bare curve point in hex
    (then the curve comes from SA). Never raises: every problem is a status with a reason."""
    try:
        parsed = parse_ocmf(ocmf)
    except OcmfFormatError as exc:
        return Verification("unreadable", str(exc))
    except Exception:  # the promise is "never raises"; a bug here must not break CDR handling
        logger.exception("OCMF record could not be parsed")
        return Verification("unreadable", "the record could not be processed")
    payload = parsed.payload
    algorithm = _text(parsed.signature.get("SA"))
    found = _Found(
        gateway_id=_text(payload.get("GI")),
        gateway_serial=_text(payload.get("GS")),
        gateway_version=_text(payload.get("GV")),
        meter_vendor=_text(payload.get("MV")),
        meter_model=_text(payload.get("MM")),
        meter_serial=_text(payload.get("MS")),
        meter_firmware=_text(payload.get("MF")),
        pagination=_text(payload.get("PG")),
        readings=parsed.readings,
        identified=payload["IS"] if isinstance(payload.get("IS"), bool) else None,
        identification_type=_text(payload.get("IT")),
        identification=_text(payload.get("ID")),
    )
    try:
        algorithm, reason = _verify(parsed, public_key)
    except _Finding as finding:
        return Verification(finding.status, finding.reason, algorithm=algorithm, **found)
    except Exception:
        logger.exception("OCMF signature check failed unexpectedly")
        reason = "the signature could not be checked (internal error)"
        return Verification("cannot_verify", reason, algorithm=algorithm, **found)
    return Verification("valid", reason, algorithm=algorithm, **found)


def _verify(parsed: ParsedOcmf, public_key: str | bytes | None) -> tuple[str, str]:
    """(the algorithm used, why it is valid), or raises _Finding with the outcome."""
    signature = parsed.signature
    given = signature.get("SA")
    if given is not None and not isinstance(given, str):
        raise _Finding("unreadable", "the signature algorithm (SA) is not text")
    sd = signature.get("SD")
    if not isinstance(sd, str) or not sd:
        raise _Finding("unreadable", "the record has no signature data (SD)")
    signature_bytes = _signature_bytes(sd, signature.get("SE"))
    mime = signature.get("SM", "application/x-der")
    if mime != "application/x-der":
        raise _Finding("cannot_verify", f"signature type {mime!r} is not one OCMF defines")

    if public_key is None or (isinstance(public_key, str | bytes) and not public_key.strip()):
        raise _Finding(
            "cannot_verify", "no public key was given, so the signature can't be checked"
        )
    if not isinstance(public_key, str | bytes):
        raise _Finding("cannot_verify", "the public key is neither text nor bytes")
    key_oid, point = _public_key(public_key)

    if given is None:  # OCMF's default, unless the key itself names its curve
        curve = _BY_OID.get(key_oid or "") or _BY_NAME["secp256r1"]
        algorithm = f"ECDSA-{curve.name}-SHA256"
    else:
        algorithm = given
        curve = _curve_for(given)
    if key_oid is not None and key_oid != curve.oid:
        key_curve = _BY_OID[key_oid].name if key_oid in _BY_OID else f"OID {key_oid}"
        raise _Finding(
            "invalid",
            f"the public key is for {key_curve}, but the record was signed with {algorithm}",
        )
    if len(point) == 2 * curve.size:  # a bare x||y without the uncompressed-point prefix
        point = b"\x04" + point
    r, s = _signature_numbers(signature_bytes, curve)
    ok, checker = _check(curve, point, parsed.payload_bytes, r, s)
    if not ok:
        raise _Finding(
            "invalid",
            "the signature does not match the signed data with this public key: the data was "
            f"changed after signing, or the key is not this meter's ({algorithm})",
        )
    return algorithm, f"the meter's signature is valid ({algorithm}, checked with {checker})"


def _curve_for(algorithm: str) -> _Curve:
    match = _ALGORITHM.fullmatch(algorithm.strip())
    if match is None:
        raise _Finding(
            "cannot_verify", f"signature algorithm {algorithm!r} cannot be verified here"
        )
    if match["hash"].upper().replace("-", "") != "SHA256":
        raise _Finding("cannot_verify", f"{algorithm}: OCMF signs with SHA-256 only")
    curve = _BY_NAME.get(match["curve"].lower())
    if curve is None:
        raise _Finding(
            "cannot_verify",
            f"curve {match['curve']} ({algorithm}) is not one OCMF defines; cannot verify here",
        )
    return curve


def _signature_bytes(sd: str, encoding: object) -> bytes:
    if encoding is None or (isinstance(encoding, str) and encoding.lower() == "hex"):
        try:
            return bytes.fromhex(sd)
        except ValueError as exc:
            raise _Finding("unreadable", "the signature data (SD) is not hex") from exc
    if isinstance(encoding, str) and encoding.lower() == "base64":
        try:
            return base64.b64decode(sd, validate=True)
        except binascii.Error as exc:
            raise _Finding("unreadable", "the signature data (SD) is not base64") from exc
    raise _Finding("unreadable", f"unknown signature encoding (SE) {encoding!r}")


def _signature_numbers(signature: bytes, curve: _Curve) -> tuple[int, int]:
    """(r, s) from the DER signature OCMF prescribes; a bare r||s of the curve's block length is
    read too, since both carry the same two numbers and some devices send that."""
    try:
        return decode_dss_signature(signature)
    except ValueError:
        if len(signature) == 2 * curve.size:
            half = curve.size
            return int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
        raise _Finding("invalid", "the signature is not a DER-encoded ECDSA signature") from None


def _check(curve: _Curve, point: bytes, payload: bytes, r: int, s: int) -> tuple[bool, str]:
    """Whether (r, s) signs `payload` under `point`, and which library said so."""
    der = encode_dss_signature(r, s)
    if curve.openssl is not None:
        try:
            openssl_key = ec.EllipticCurvePublicKey.from_encoded_point(curve.openssl, point)
        except UnsupportedAlgorithm:
            openssl_key = None  # switched off in this OpenSSL build: try `ecdsa`
        except ValueError as exc:
            raise _Finding(
                "cannot_verify", f"the public key is not a point on {curve.name}"
            ) from exc
        if openssl_key is not None:
            try:
                openssl_key.verify(der, payload, ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                return False, "cryptography"
            return True, "cryptography"
    ecdsa_curve = _ecdsa_curve(curve)
    if ecdsa_curve is None:
        raise _Finding(
            "cannot_verify",
            f"{curve.name} is supported neither by cryptography nor by ecdsa here: "
            "cannot verify here",
        )
    try:
        ecdsa_key = _ecdsa.VerifyingKey.from_string(point, curve=ecdsa_curve)
    except (_EcdsaPointError, ValueError, AssertionError) as exc:
        raise _Finding("cannot_verify", f"the public key is not a point on {curve.name}") from exc
    try:
        ok = ecdsa_key.verify(
            der, payload, hashfunc=hashlib.sha256, sigdecode=_ecdsa.util.sigdecode_der
        )
    except (_EcdsaBadSignature, _EcdsaDerError):
        return False, "ecdsa"
    return bool(ok), "ecdsa"


def _ecdsa_curve(curve: _Curve) -> Any:
    if _ecdsa is None or curve.ecdsa_name is None:
        return None
    if curve.ecdsa_name == "secp192k1":
        return _secp192k1()
    return getattr(_ecdsa.curves, curve.ecdsa_name, None)


@cache
def _secp192k1() -> Any:
    field = _ecdsa.ellipticcurve.CurveFp(_SECP192K1_P, 0, 3, 1)
    generator = _ecdsa.ellipticcurve.PointJacobi(
        field, _SECP192K1_GX, _SECP192K1_GY, 1, _SECP192K1_N, generator=True
    )
    return _ecdsa.curves.Curve("SECP192k1", field, generator, (1, 3, 132, 0, 31))


# ---------------------------------------------------------------------------------------------
# Public keys


def _public_key(given: str | bytes) -> tuple[str | None, bytes]:
    """(the namedCurve OID, or None for a bare point; the encoded point)."""
    data = _key_bytes(given)
    if data[:1] == b"\x30":
        try:
            return _spki(data)
        except (ValueError, IndexError) as exc:
            raise _Finding("cannot_verify", f"the public key cannot be read: {exc}") from exc
    if data[:1] in (b"\x02", b"\x03", b"\x04") or len(data) in {2 * c.size for c in _CURVES}:
        return None, data
    raise _Finding("cannot_verify", "the public key is neither DER nor a curve point")


def _key_bytes(given: str | bytes) -> bytes:
    """Text to key bytes: hex first (a DER key in base64 starts with 'M', never a hex digit), then
    base64 and PEM, and base64 of hex text (what a hex key becomes when base64-encoded for OCPI,
    which asks for base64). Bytes are taken as the binary key itself."""
    if isinstance(given, bytes):  # already binary: DER or a bare point
        return given
    text = given.strip()
    if text.startswith("-----BEGIN"):
        text = "".join(line for line in text.splitlines() if not line.startswith("-----"))
    compact = re.sub(r"[\s:]", "", text)
    if _HEX.fullmatch(compact) and len(compact) % 2 == 0:
        return bytes.fromhex(compact)
    try:
        data = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except binascii.Error:
        try:
            data = base64.urlsafe_b64decode(compact + "=" * (-len(compact) % 4))
        except (binascii.Error, ValueError) as exc:
            raise _Finding("cannot_verify", "the public key is neither hex nor base64") from exc
    inner = data.decode("ascii", errors="replace").strip()
    if _HEX.fullmatch(inner) and len(inner) % 2 == 0:
        return bytes.fromhex(inner)
    return data


def _spki(data: bytes) -> tuple[str | None, bytes]:
    """The curve OID and point of a DER SubjectPublicKeyInfo.

    Read by hand rather than with `cryptography`, because a secp192k1 key must be read too and
    OpenSSL refuses curves it does not know before handing back the OID."""
    tag, start, end = _der(data, 0)
    if tag != 0x30 or end != len(data):
        raise ValueError("not a DER SubjectPublicKeyInfo")
    tag, algorithm_start, algorithm_end = _der(data, start)
    if tag != 0x30:
        raise ValueError("no algorithm identifier")
    tag, oid_start, oid_end = _der(data, algorithm_start)
    if tag != 0x06 or _oid(data[oid_start:oid_end]) != _EC_PUBLIC_KEY_OID:
        raise ValueError("not an elliptic-curve key")
    tag, curve_start, curve_end = _der(data, oid_end)
    if tag != 0x06:
        raise _Finding("cannot_verify", "the public key spells out its curve; cannot verify here")
    curve_oid = _oid(data[curve_start:curve_end])
    tag, bits_start, bits_end = _der(data, algorithm_end)
    if tag != 0x03 or bits_end != end or bits_start >= bits_end or data[bits_start] != 0:
        raise ValueError("no public key bits")
    return curve_oid, data[bits_start + 1 : bits_end]


def _der(data: bytes, position: int) -> tuple[int, int, int]:
    """(tag, start, end) of the DER element at `position`: content is data[start:end]."""
    if position + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[position], data[position + 1]
    position += 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 4 or position + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[position : position + count], "big")
        position += count
    if position + length > len(data):
        raise ValueError("truncated DER")
    return tag, position, position + length


def _oid(content: bytes) -> str:
    if not content or content[-1] & 0x80:
        raise ValueError("bad OID")
    numbers: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            numbers.append(value)
            value = 0
    first = min(numbers[0] // 40, 2)
    return ".".join(str(n) for n in [first, numbers[0] - 40 * first, *numbers[1:]])


# ---------------------------------------------------------------------------------------------
# A CDR's signed data


@dataclass(frozen=True)
class Item:
    """The finding for one SignedValue of the CDR."""

    index: int  # position in `signed_values`, from 0
    nature: str  # Start, End, Intermediate, … as the CPO wrote it
    status: Status | Literal["not_verified"]  # not_verified: an encoding other than OCMF
    note: str  # in words
    verification: Verification | None  # None when not OCMF


@dataclass(frozen=True)
class EnergyCheck:
    """Billed energy against the signed readings (see `check_signed_data` for the rule)."""

    status: EnergyStatus
    reason: str
    billed_kwh: Decimal | None = None
    signed_kwh: Decimal | None = None  # end − start
    start: Reading | None = None
    end: Reading | None = None
    tolerance_kwh: Decimal | None = None  # the meter's resolution; the difference must be below

    @property
    def good(self) -> bool:
        return self.status in ("match", "within_resolution")


@dataclass(frozen=True)
class Report:
    """Everything said about a CDR's signed data: `all_good` only when every signed value verifies
    and the billed energy is what the signed readings say."""

    all_good: bool
    summary: str  # English, for an operator and, rephrased, the driver
    items: tuple[Item, ...]
    energy: EnergyCheck


def check_cdr_signed_data(signed_data: object, billed_kwh: object) -> Report:
    """`check_signed_data` for a whole OCPI SignedData object (`CDR.signed_data`)."""
    if not isinstance(signed_data, Mapping):
        return _report_without_items("the CDR's signed data is missing or not an object")
    method = signed_data.get("encoding_method")
    return check_signed_data(
        signed_data.get("signed_values"),  # type: ignore[arg-type]
        signed_data.get("public_key"),  # type: ignore[arg-type]
        billed_kwh,  # type: ignore[arg-type]
        encoding_method=method if isinstance(method, str) else "",
    )


def check_signed_data(
    signed_values: list[dict[str, Any]],
    public_key: str,
    billed_kwh: Decimal,
    *,
    encoding_method: str = "OCMF",
) -> Report:
    """Verify each signed value and compare the billed energy with the signed readings.

    Signatures: each OCMF value is checked with `public_key` (`verify_ocmf`). Values in another
    `encoding_method` (Alfen Eichrecht, EDL40, …) are shown for the driver's transparency
    software, not verified here, so such a CDR is never `all_good`.

    Energy, the rule: signed energy = end reading − start reading, in kWh (Wh ÷ 1000, exact).
    The start is the reading with TX B, the end the one with TX E (or its precise forms L, R, A,
    P), whether both sit in one OCMF record or in a Start and an End value; readings without TX
    fall back to their value's `nature` (first reading of Start, last of End). The comparison is
    exact Decimal arithmetic, and the only tolerance is the meter's resolution, read from how the
    two readings are written (the coarser of the two; RV 12.34 kWh → 0.01 kWh, RV 7753 Wh →
    0.001 kWh): |billed − signed| must be strictly less than one step. Strictly, because a register
    shows only completed steps, so the true energy lies strictly within one step of the difference
    of the displayed readings; a whole step off (0.1 kWh on a 0.1 kWh meter) is a real discrepancy.
    Equal is "match", less than a step "within_resolution" (both fine), more "mismatch". The
    readings cannot establish the energy ("unusable") when a start or end is missing or ambiguous,
    they come from different meters or registers, the meter reports an error (ST other than G,
    EF with E, an X reading), or the end lies before the start.

    Never raises: unreadable data is a finding in the report. (A float `billed_kwh` is read
    through its shortest decimal text, never computed with.)"""
    try:
        return _check_signed_data(signed_values, public_key, billed_kwh, encoding_method)
    except Exception:  # the promise is "never raises"; a bug here must not break CDR handling
        logger.exception("signed data check failed unexpectedly")
        return _report_without_items("the signed data could not be processed (internal error)")


def _check_signed_data(
    signed_values: object, public_key: object, billed_kwh: object, encoding_method: object
) -> Report:
    if isinstance(signed_values, str | bytes) or not isinstance(signed_values, Sequence):
        return _report_without_items("the signed data is unreadable: signed_values is not a list")
    if not signed_values:
        return _report_without_items("the CDR's signed data holds no signed values")
    billed = (
        _decimal(billed_kwh) if not isinstance(billed_kwh, float) else _decimal(str(billed_kwh))
    )
    method = encoding_method.strip() if isinstance(encoding_method, str) else ""
    if method.upper() != "OCMF":
        return _other_encoding(signed_values, method)
    key = public_key if isinstance(public_key, str | bytes) else None

    items: list[Item] = []
    for index, value in enumerate(signed_values):
        nature = _text(value.get("nature")) if isinstance(value, Mapping) else None
        nature = nature or "(no nature)"
        record = _ocmf_record(value) if isinstance(value, Mapping) else None
        if record is None:
            verification = Verification("unreadable", "no OCMF record in signed_data or plain_data")
        else:
            verification = verify_ocmf(record, key)
        items.append(Item(index, nature, verification.status, verification.reason, verification))
    energy = _energy(items, billed, billed_kwh)
    all_good = all(item.status == "valid" for item in items) and energy.good
    return Report(all_good, _summary(items, energy, all_good), tuple(items), energy)


def ocmf_record(value: object) -> bytes | None:
    """The OCMF record one SignedValue carries, byte for byte (see `_ocmf_record`), or None."""
    return _ocmf_record(value) if isinstance(value, Mapping) else None


def meter_page(value: object) -> tuple[str, str] | None:
    """The meter (its vendor `MV` and serial `MS`, else the gateway's `GS`) and the page (`PG`)
    named by the OCMF record of one SignedValue, read without checking its signature: a meter
    numbers each record once, so the same pair in two sessions' CDRs is one session's data
    billed twice (the vendor, because serials are unique only per vendor). None when the record
    cannot be read or names no page."""
    record = ocmf_record(value)
    if record is None:
        return None
    try:
        payload = parse_ocmf(record).payload
    except OcmfFormatError:
        return None
    serial = _text(payload.get("MS")) or _text(payload.get("GS"))
    page = _text(payload.get("PG"))
    if not serial or not page:
        return None
    return " ".join(part for part in (_text(payload.get("MV")), serial) if part), page


def public_key_bytes(given: object) -> bytes | None:
    """A public key as its bytes (DER, or a bare point), however it is written (hex, base64,
    PEM, base64 of hex): the form in which two keys are compared. None when it cannot be read."""
    if not isinstance(given, str | bytes) or not given.strip():
        return None
    try:
        return _key_bytes(given)
    except _Finding:
        return None


def _ocmf_record(value: Mapping[str, Any]) -> bytes | None:
    """The OCMF record of a SignedValue: `signed_data` as it is or base64-decoded, else
    `plain_data`. An OCMF record carries its own signature, so whichever field holds it will do."""
    for field in ("signed_data", "plain_data"):
        text = value.get(field)
        if not isinstance(text, str):
            continue
        raw = text.strip().encode("utf-8")
        if raw.startswith(HEADER + b"|"):
            return raw
        try:
            decoded = base64.b64decode(re.sub(r"\s", "", text), validate=True).strip()
        except (binascii.Error, ValueError):
            continue
        if decoded.startswith(HEADER + b"|"):
            return decoded
    return None


def _other_encoding(signed_values: Sequence[Any], method: str) -> Report:
    name = repr(method) if method else "an unnamed encoding"
    note = f"encoded as {name}: shown for the driver's transparency software, not verified here"
    items = tuple(
        Item(
            index,
            (_text(value.get("nature")) if isinstance(value, Mapping) else None) or "(no nature)",
            "not_verified",
            note,
            None,
        )
        for index, value in enumerate(signed_values)
    )
    energy = EnergyCheck("not_checked", f"the readings are encoded as {name}, not read here")
    summary = (
        f"The CPO's signed meter data ({name}) is shown for the driver's transparency software; "
        "it is not verified here, and the billed energy is not compared with it."
    )
    return Report(False, summary, items, energy)


def _report_without_items(reason: str) -> Report:
    return Report(
        False, reason[0].upper() + reason[1:] + ".", (), EnergyCheck("not_checked", reason)
    )


# ---------------------------------------------------------------------------------------------
# Energy


@dataclass(frozen=True)
class _Located:
    reading: Reading
    item: Item
    verification: Verification

    @property
    def key(self) -> tuple[object, ...]:  # the same reading sent twice counts once
        r = self.reading
        meter = self.verification.meter_serial or self.verification.gateway_serial
        return (meter, r.time_text, r.value, r.unit, r.obis)


def _energy(items: list[Item], billed: Decimal | None, billed_given: object) -> EnergyCheck:
    """The energy check, saying so when its readings' own signatures did not hold up."""
    check = _energy_check(items, billed, billed_given)
    starts_and_ends = [check.start, check.end]
    doubtful = any(
        item.status != "valid"
        for item in items
        if item.verification is not None
        and any(reading in starts_and_ends for reading in item.verification.readings)
    )
    if doubtful and check.start is not None:
        return replace(check, reason=f"{check.reason} (by readings whose signature is not valid)")
    return check


class _Known(TypedDict, total=False):
    """What `_energy_check` has worked out so far, passed on to the `EnergyCheck` it returns."""

    start: Reading
    end: Reading
    signed_kwh: Decimal
    tolerance_kwh: Decimal


def _energy_check(items: list[Item], billed: Decimal | None, billed_given: object) -> EnergyCheck:
    readable = [
        (item, item.verification)
        for item in items
        if item.verification is not None and item.verification.readings
    ]
    if not readable:
        return EnergyCheck("unusable", "no signed readings could be read", billed_kwh=billed)
    located = [
        _Located(reading, item, verification)
        for item, verification in readable
        for reading in verification.readings
    ]
    starts = _distinct(x for x in located if x.reading.type in BEGIN)
    ends = _distinct(x for x in located if x.reading.type in END)
    if not starts:
        starts = _distinct(
            [x for x in located if x.item.nature.lower() == "start" and not x.reading.type][:1]
        )
    if not ends:
        ends = _distinct(
            [x for x in located if x.item.nature.lower() == "end" and not x.reading.type][-1:]
        )

    def unusable(reason: str, **known: Unpack[_Known]) -> EnergyCheck:
        return EnergyCheck("unusable", reason, billed_kwh=billed, **known)

    if not starts or not ends:
        missing = "start (TX B)" if not starts else "end (TX E)"
        return unusable(f"the signed data has no {missing} reading")
    if len(starts) > 1 or len(ends) > 1:
        return unusable("the signed data has more than one start or end reading")
    start, end = starts[0], ends[0]
    known: _Known = {"start": start.reading, "end": end.reading}
    problem = _reading_problem(start, end, located)
    if problem:
        return unusable(problem, **known)
    start_kwh, end_kwh = start.reading.kwh, end.reading.kwh
    assert start_kwh is not None and end_kwh is not None  # _reading_problem saw to it
    signed = end_kwh - start_kwh
    known["signed_kwh"] = signed
    if signed < 0:
        return unusable(
            f"the end reading ({end_kwh} kWh) is below the start ({start_kwh} kWh)", **known
        )
    steps = [start.reading.resolution_kwh, end.reading.resolution_kwh]
    tolerance = max(step for step in steps if step is not None)
    known["tolerance_kwh"] = tolerance
    readings = f"end {end_kwh} kWh − start {start_kwh} kWh = {signed} kWh"
    if billed is None:
        said = (
            "no billed energy was given"
            if billed_given is None
            else "the billed energy is not a number"
        )
        return EnergyCheck("not_checked", f"{said}; the signed readings say {readings}", **known)
    difference = billed - signed
    if difference == 0:
        return EnergyCheck(
            "match",
            f"the billed {billed} kWh equals the signed {readings}",
            billed_kwh=billed,
            **known,
        )
    if abs(difference) < tolerance:
        reason = (
            f"the billed {billed} kWh is within the meter's resolution ({tolerance} kWh) "
            f"of the signed {readings}"
        )
        return EnergyCheck("within_resolution", reason, billed_kwh=billed, **known)
    direction = "more" if difference > 0 else "less"
    reason = (
        f"the billed {billed} kWh is {abs(difference)} kWh {direction} than the signed {readings} "
        f"(the meter's resolution is {tolerance} kWh)"
    )
    return EnergyCheck("mismatch", reason, billed_kwh=billed, **known)


def _distinct(found: Iterable[_Located]) -> list[_Located]:
    unique: dict[tuple[object, ...], _Located] = {}
    for located in found:
        unique.setdefault(located.key, located)
    return list(unique.values())


def _reading_problem(start: _Located, end: _Located, located: list[_Located]) -> str | None:
    """Why these two readings cannot establish the energy, or None."""
    for name, x in (("start", start), ("end", end)):
        r = x.reading
        if r.value is None:
            return f"the {name} reading has no value"
        if r.kwh is None:
            return f"the {name} reading's unit {r.unit!r} is not kWh or Wh"
        if r.status != "G":
            return f"the meter reports state {r.status!r} at the {name} reading (G is a good meter)"
        if "E" in r.error_flags:
            flags = r.error_flags
            return f"the meter flags the {name} reading's energy as unusable (EF {flags!r})"
    if any(x.reading.type == "X" for x in located):
        return (
            "the meter reports an error during charging (an X reading): energy unusable from there"
        )
    a, b = start.verification, end.verification
    for label, first, second in (
        ("meter serial", a.meter_serial, b.meter_serial),
        ("gateway serial", a.gateway_serial, b.gateway_serial),
        ("register", start.reading.obis, end.reading.obis),
    ):
        if first and second and first != second:
            return f"the start and end readings come from different {label}s ({first}, {second})"
    if start.reading.time and end.reading.time and end.reading.time < start.reading.time:
        return "the end reading is timed before the start reading"
    return None


def _summary(items: list[Item], energy: EnergyCheck, all_good: bool) -> str:
    count = len(items)
    if all_good:
        meter = items[0].verification.meter if items[0].verification else "the meter"
        values = "the signed value carries" if count == 1 else f"all {count} signed values carry"
        return f"Everything checks out: {values} a valid signature of {meter}, and {energy.reason}."
    problems: list[str] = []
    for item in items:
        if item.status == "valid":
            continue
        named = item.nature != "(no nature)"
        what = f"the {item.nature} value" if named else f"signed value {item.index + 1}"
        label = {
            "invalid": "has an invalid signature",
            "cannot_verify": "cannot be verified here",
            "unreadable": "is unreadable",
            "not_verified": "is not verified here",
        }[item.status]
        problems.append(f"{what} {label} ({item.note})")
    if not energy.good:
        problems.append(energy.reason)
    return "Not everything checks out: " + "; ".join(problems) + "."
