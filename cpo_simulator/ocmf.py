"""The simulated charger's calibrated meter: it signs start and end readings as OCMF (Eichrecht).

A CPO's CDR may carry the meter's signed readings (`signed_data`, checklist CDR-08), so the
eMSP's verification should run against something a real measuring capsule would produce:
`OCMF|{payload}|{signature}` (Open Charge Metering Format, S.A.F.E. e.V.), with one B (begin) and
one E (end) reading in kWh, signed with ECDSA over the payload section's exact bytes, the signature
DER in hex, and the public key as hex DER (SubjectPublicKeyInfo), the form transparency software
takes.

The simulator makes its key pair when it starts (the module-level `METER`, created on import), on
secp256r1 via `cryptography`; `MeterSigner("secp192k1")` signs on the curve many real meters use,
which OpenSSL lacks, via the pure Python `ecdsa` package, so that path can be exercised too.

Independent of the product on purpose, like the rest of the simulator: nothing here imports
`config`, `payments`, `stations` or `ocpi_peer`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final, Literal

import ecdsa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

Curve = Literal["secp256r1", "secp192k1"]

RESOLUTION_KWH: Final = Decimal("0.001")  # the simulated register counts whole Wh
OBIS_IMPORT: Final = "1-b:1.8.0"  # active energy imported, total

# secp192k1 from SEC 2 v2 (Certicom, 2010), section 2.2.1; `ecdsa` does not ship it.
_SECP192K1_P: Final = 0xFFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFE_FFFFEE37
_SECP192K1_N: Final = 0xFFFFFFFF_FFFFFFFF_FFFFFFFE_26F2FC17_0F69466A_74DEFD8D
_SECP192K1_GX: Final = 0xDB4FF10E_C057E9AE_26B07D02_80B7F434_1DA5D1B1_EAE06C7D
_SECP192K1_GY: Final = 0x9B2F2F6D_9C5628A7_844163D0_15BE8634_4082AA88_D95E2F9D


def secp192k1() -> ecdsa.curves.Curve:
    """The secp192k1 curve for `ecdsa` (y² = x³ + 3)."""
    field = ecdsa.ellipticcurve.CurveFp(_SECP192K1_P, 0, 3, 1)
    generator = ecdsa.ellipticcurve.PointJacobi(
        field, _SECP192K1_GX, _SECP192K1_GY, 1, _SECP192K1_N, generator=True
    )
    return ecdsa.curves.Curve("SECP192k1", field, generator, (1, 3, 132, 0, 31))


class MeterSigner:
    """A meter's signing component: one key pair and a transaction counter (OCMF `PG`)."""

    def __init__(self, curve: Curve = "secp256r1") -> None:
        self.curve: Curve = curve
        self._lock = threading.Lock()
        self._transactions = 0
        if curve == "secp256r1":
            self._openssl_key: ec.EllipticCurvePrivateKey | None = ec.generate_private_key(
                ec.SECP256R1()
            )
            self._ecdsa_key: Any = None
            der = self._openssl_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        elif curve == "secp192k1":
            self._openssl_key = None
            self._ecdsa_key = ecdsa.SigningKey.generate(curve=secp192k1())
            der = self._ecdsa_key.get_verifying_key().to_der(point_encoding="uncompressed")
        else:
            raise ValueError(f"unsupported curve {curve!r}")
        self.public_key_hex: str = der.hex().upper()
        self.algorithm: str = f"ECDSA-{curve}-SHA256"

    def sign_readings(
        self,
        start_kwh: Decimal,
        end_kwh: Decimal,
        start_time: datetime,
        end_time: datetime,
        meter_serial: str,
        *,
        identification: tuple[str, str] = ("NONE", ""),
    ) -> tuple[str, str]:
        """One OCMF record with the begin and end readings: (the OCMF string, public key hex).

        `identification` is the signed (IT, ID): ("CENTRAL", the token's uid) for a session the
        backend started for a token, as a charger told by OCPP's RemoteStart signs it; IS says
        whether it identifies anyone. Readings are cut to the register's whole Wh (a meter shows
        completed steps only) and written with three decimals, exactly, never through a float."""
        start, end = _register(start_kwh), _register(end_kwh)
        if end < start:
            raise ValueError(f"the end reading {end} kWh is below the start {start} kWh")
        with self._lock:
            self._transactions += 1
            pagination = f"T{self._transactions}"
        payload = _object(
            FV=_string("1.0"),
            GI=_string("ChargePay CPO simulator"),
            GS=_string("SIM-GATEWAY-1"),
            GV=_string("1.0"),
            PG=_string(pagination),
            MV=_string("Simulated"),
            MM=_string("SIM-METER"),
            MS=_string(meter_serial),
            MF=_string("1.0"),
            IS="true" if identification[1] else "false",
            IL=_string("TRUSTED" if identification[1] else "NONE"),
            IF="[]",
            IT=_string(identification[0]),
            ID=_string(identification[1]),
            RD="[" + _reading(start_time, "B", start) + "," + _reading(end_time, "E", end) + "]",
        )
        signature = self._sign(payload.encode("utf-8"))
        section = _object(SA=_string(self.algorithm), SD=_string(signature.hex().upper()))
        return f"OCMF|{payload}|{section}", self.public_key_hex

    def _sign(self, data: bytes) -> bytes:
        """A DER ECDSA signature with SHA-256 over `data`."""
        if self._openssl_key is not None:
            return self._openssl_key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self._ecdsa_key.sign_deterministic(
            data, hashfunc=hashlib.sha256, sigencode=ecdsa.util.sigencode_der
        )


def _register(kwh: Decimal) -> Decimal:
    if isinstance(kwh, float) or not isinstance(kwh, Decimal | int | str):
        raise TypeError(f"energy must be a Decimal, not {type(kwh).__name__}")
    value = Decimal(kwh)
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a meter reading: {kwh!r}")
    return value.quantize(RESOLUTION_KWH, rounding=ROUND_DOWN)


def _reading(moment: datetime, transaction: str, kwh: Decimal) -> str:
    return _object(
        TM=_string(_ocmf_time(moment)),
        TX=_string(transaction),
        RV=format(kwh, "f"),  # a JSON number with the register's digits
        RI=_string(OBIS_IMPORT),
        RU=_string("kWh"),
        RT=_string("AC"),
        EF=_string(""),
        ST=_string("G"),
    )


def _ocmf_time(moment: datetime) -> str:
    """OCMF's `2018-07-24T13:22:04,000+0000 S`: milliseconds after a comma, the offset without a
    colon, and S for a synchronised clock."""
    if moment.tzinfo is None:
        raise ValueError("reading times must carry a time zone")
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S,") + f"{utc.microsecond // 1000:03d}+0000 S"


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _object(**members: str) -> str:
    """A compact JSON object from already-encoded member values, in the given order."""
    return "{" + ",".join(f"{_string(key)}:{value}" for key, value in members.items()) + "}"


METER: Final = MeterSigner()


def sign_readings(
    start_kwh: Decimal,
    end_kwh: Decimal,
    start_time: datetime,
    end_time: datetime,
    meter_serial: str,
    *,
    identification: tuple[str, str] = ("NONE", ""),
) -> tuple[str, str]:
    """Sign with the simulator's own meter key (`METER`): (the OCMF string, public key hex)."""
    return METER.sign_readings(
        start_kwh, end_kwh, start_time, end_time, meter_serial, identification=identification
    )
