"""The simulator's CDRs (checklist §7): one POSTed to the eMSP after each COMPLETED session, in
both versions, with its faults, and the CDRs Sender list.

The eMSP is `CdrEmsp`: the charging tests' eMSP plus a CDRs Receiver that records each POST and
answers 201 with a `Location` header. The OCMF signatures are checked with `cryptography`
directly, not with the product's verifier: the simulator's tests stay independent of it."""

import base64
import json
import time
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key
from django.core.management.base import CommandError

from cpo_simulator import CpoSimulator
from cpo_simulator.cdrs import NO_ENDPOINT
from cpo_simulator.management.commands.simulate_cpo import Command as SimulateCpo
from cpo_simulator.transport import authorization, load_json, parse_datetime
from tests.helpers import wait_until
from tests.simulator.charging import Call, ChargingEmsp, command, modern, start_body
from tests.simulator.emsp import envelope

StartCpo = Callable[..., CpoSimulator]


class CdrEmsp(ChargingEmsp):
    """Adds a CDRs Receiver (unless `offer_cdrs` is False): POST `{base}/cdrs` is recorded and
    answered 201 with `Location: {base}/cdrs/{id}`."""

    def __init__(self, version: str = "2.2.1", *, offer_cdrs: bool = True) -> None:
        self.offer_cdrs = offer_cdrs
        super().__init__(version)
        emsp = self

        class Handler(BaseHTTPRequestHandler):
            def serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, answer = emsp.answer_with_headers(
                    self.command, self.path, self.headers.get("Authorization"), body
                )
                payload = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server.RequestHandlerClass = Handler  # read per connection: all later requests

    def answer_with_headers(
        self, method: str, path: str, header: str | None, body: bytes
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        base = f"{self.base_url}/{self.version}"
        if self._token(header) is not None and self.offer_cdrs:
            if path == f"/{self.version}":
                status, answer = self.answer(method, path, header, body)
                endpoint = {"identifier": "cdrs", "role": "RECEIVER", "url": f"{base}/cdrs"}
                if not modern(self.version):
                    del endpoint["role"]
                answer["data"]["endpoints"].append(endpoint)
                return status, {}, answer
            if path == f"/{self.version}/cdrs" and method == "POST":
                cdr = load_json(body)
                with self.lock:
                    self.calls.append(Call(method, path, header, cdr))
                return 201, {"Location": f"{base}/cdrs/{cdr['id']}"}, envelope()
        status, answer = self.answer(method, path, header, body)
        return status, {}, answer

    def cdrs(self) -> list[dict[str, Any]]:
        with self.lock:
            return [c.body for c in self.calls if c.path == f"/{self.version}/cdrs"]


@pytest.fixture(params=["2.2.1", "2.1.1"])
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def emsp(version: str) -> Iterator[CdrEmsp]:
    receiver = CdrEmsp(version)
    yield receiver
    receiver.close()


@pytest.fixture
def cpo(version: str, emsp: CdrEmsp) -> Iterator[StartCpo]:
    """Simulators registered with `emsp`, a PATCH every 0.1 s, 600 simulated s a real s."""
    started: list[CpoSimulator] = []

    def start(receiver: CdrEmsp = emsp, **options: Any) -> CpoSimulator:
        options = {"location_count": 3, "update_interval": 0.1, "time_scale": 600} | options
        sim = CpoSimulator(versions=(receiver.version,), **options).start()
        started.append(sim)
        receiver.connect(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


def charge(sim: CpoSimulator, emsp: CdrEmsp, name: str = "start") -> dict[str, Any]:
    """A START_SESSION on LOC00001-1 that charges for a few PATCHes and is ended by the car;
    the final Session."""
    before, known = len(emsp.calls_to("sessions", "PATCH")), set(sim.sessions)
    answer = command(sim, emsp, "START_SESSION", start_body(emsp, name))
    assert answer["status_code"] == 1000
    (session_id,) = wait_until(lambda: set(sim.sessions) - known)
    sim.wait_for_session(status="ACTIVE", session_id=session_id)
    wait_until(lambda: len(emsp.calls_to("sessions", "PATCH")) >= before + 2)
    return sim.end_session(session_id, reason="EV disconnected")


def money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def ocmf_parts(cdr: dict[str, Any]) -> tuple[str, dict[str, Any], bytes]:
    """The signed value's OCMF payload text, its parsed form and the signature bytes, after
    checking that `signed_data` is `plain_data` in base64."""
    (value,) = cdr["signed_data"]["signed_values"]
    record = value["plain_data"]
    assert base64.b64decode(value["signed_data"]).decode() == record
    header, payload, signature = record.split("|")
    assert header == "OCMF"
    parsed = json.loads(payload, parse_float=Decimal, parse_int=Decimal)
    return payload, parsed, bytes.fromhex(json.loads(signature)["SD"])


def verify(cdr: dict[str, Any]) -> None:
    """Raises InvalidSignature unless the OCMF record is signed by the CDR's public key."""
    payload, _, signature = ocmf_parts(cdr)
    key = load_der_public_key(bytes.fromhex(cdr["signed_data"]["public_key"]))
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, payload.encode(), ec.ECDSA(hashes.SHA256()))


def readings(cdr: dict[str, Any]) -> tuple[Decimal, Decimal]:
    _, parsed, _ = ocmf_parts(cdr)
    begin, end = parsed["RD"]
    assert (begin["TX"], end["TX"]) == ("B", "E")
    return begin["RV"], end["RV"]


def sender_list(sim: CpoSimulator, emsp: CdrEmsp, **query: str) -> httpx.Response:
    assert emsp.cpo_token is not None
    headers = {"Authorization": authorization(emsp.cpo_token, base64_form=modern(emsp.version))}
    url = f"{sim.version_url(emsp.version)}/cdrs"
    return httpx.get(url, params=query, headers=headers)


# --- the CDR after a session ---------------------------------------------------------------------


@pytest.mark.parametrize("version", ["2.2.1"])
def test_a_completed_session_sends_a_valid_221_cdr(cpo: StartCpo, emsp: CdrEmsp) -> None:
    sim = cpo()
    final = charge(sim, emsp)
    delivery = sim.wait_for_cdr(session_id=final["id"])
    (cdr,) = wait_until(emsp.cdrs)

    assert delivery.body == cdr and delivery.kind == "cdr" and delivery.error is None
    assert (delivery.http_status, delivery.ocpi_status) == (201, 1000)
    assert delivery.location == f"{emsp.base_url}/2.2.1/cdrs/{cdr['id']}"
    assert list(cdr) == [
        "country_code",
        "party_id",
        "id",
        "start_date_time",
        "end_date_time",
        "session_id",
        "cdr_token",
        "auth_method",
        "authorization_reference",
        "cdr_location",
        "meter_id",
        "currency",
        "tariffs",
        "charging_periods",
        "signed_data",
        "total_cost",
        "total_fixed_cost",
        "total_energy_cost",
        "total_time_cost",
        "total_energy",
        "total_time",
        "total_parking_time",
        "remark",
        "last_updated",
    ]
    assert (cdr["country_code"], cdr["party_id"]) == ("NL", "SIM")
    assert len(cdr["id"]) <= 36
    assert cdr["session_id"] == final["id"]
    assert cdr["start_date_time"] == final["start_date_time"]
    assert cdr["end_date_time"] == final["end_date_time"]
    assert cdr["cdr_token"] == final["cdr_token"]
    assert cdr["auth_method"] == "COMMAND"
    assert cdr["authorization_reference"] == "auth-ref-0001"
    assert cdr["cdr_location"] == {
        "id": "LOC00001",
        "name": "Simulated site 1",
        "address": "Simulatorstraat 1",
        "city": "Amsterdam",
        "postal_code": "1000AB",
        "country": "NLD",
        "coordinates": {"latitude": "52.000000", "longitude": "4.500000"},
        "evse_uid": "LOC00001-1",
        "evse_id": "NL*SIM*E00001*1",
        "connector_id": "1",
        "connector_standard": "IEC_62196_T2",
        "connector_format": "SOCKET",
        "connector_power_type": "AC_3_PHASE",
    }
    assert cdr["currency"] == "EUR"
    tariff = json.loads(json.dumps(sim.tariff("TARIFF-AC", "2.2.1"), default=str))
    assert json.loads(json.dumps(cdr["tariffs"], default=str)) == [tariff]
    assert cdr["charging_periods"] == final["charging_periods"]
    assert all(p["tariff_id"] == "TARIFF-AC" for p in cdr["charging_periods"])

    # the totals: the final Session's cost, its energy, its periods' hours; no parking
    assert cdr["total_cost"] == final["total_cost"]
    fee, per_kwh = Decimal("0.4132"), Decimal("0.4876")  # TARIFF-AC excl. NL's 21 % VAT
    assert cdr["total_cost"]["excl_vat"] == money(fee + final["kwh"] * per_kwh)
    assert cdr["total_fixed_cost"] == {"excl_vat": money(fee), "incl_vat": money(fee * 121 / 100)}
    assert cdr["total_energy_cost"]["excl_vat"] == money(final["kwh"] * per_kwh)
    assert cdr["total_time_cost"] == {"excl_vat": 0, "incl_vat": 0}  # no blocking fee yet
    parts = cdr["total_fixed_cost"]["excl_vat"] + cdr["total_energy_cost"]["excl_vat"]
    assert abs(parts - cdr["total_cost"]["excl_vat"]) <= Decimal("0.01")
    assert cdr["total_energy"] == final["kwh"] > 0
    hours = sum(
        d["volume"] for p in cdr["charging_periods"] for d in p["dimensions"] if d["type"] == "TIME"
    )
    assert cdr["total_time"] == hours and cdr["total_parking_time"] == 0
    assert cdr["remark"] == "EV disconnected"
    assert parse_datetime(cdr["last_updated"]) >= parse_datetime(cdr["end_date_time"])

    # Eichrecht: the signature holds with the given key, the readings give the billed energy
    assert cdr["signed_data"]["encoding_method"] == "OCMF"
    assert cdr["signed_data"]["signed_values"][0]["nature"] == "End"
    verify(cdr)
    start, end = readings(cdr)
    assert end - start == cdr["total_energy"]
    _, parsed, _ = ocmf_parts(cdr)
    assert parsed["MS"] == cdr["meter_id"]


@pytest.mark.parametrize("version", ["2.2.1"])
def test_the_meter_register_carries_on_from_session_to_session(
    cpo: StartCpo, emsp: CdrEmsp
) -> None:
    sim = cpo()
    first = charge(sim, emsp, "first")
    sim.wait_for_cdr(session_id=first["id"])
    second = charge(sim, emsp, "second")
    sim.wait_for_cdr(session_id=second["id"])
    one, two = emsp.cdrs()
    assert one["cdr_location"]["evse_uid"] == two["cdr_location"]["evse_uid"]
    assert readings(two)[0] == readings(one)[1]
    assert readings(two)[1] - readings(two)[0] == two["total_energy"]
    assert one["id"] != two["id"]
    assert parse_datetime(two["last_updated"]) > parse_datetime(one["last_updated"])


@pytest.mark.parametrize("version", ["2.1.1"])
def test_the_211_cdr(cpo: StartCpo, emsp: CdrEmsp) -> None:
    sim = cpo()
    final = charge(sim, emsp)
    delivery = sim.wait_for_cdr(session_id=final["id"])
    (cdr,) = wait_until(emsp.cdrs)
    assert (delivery.http_status, delivery.ocpi_status) == (201, 1000)
    assert list(cdr) == [
        "id",
        "start_date_time",
        "stop_date_time",
        "auth_id",
        "auth_method",
        "location",
        "currency",
        "tariffs",
        "charging_periods",
        "total_cost",
        "total_energy",
        "total_time",
        "total_parking_time",
        "remark",
        "last_updated",
    ]
    assert cdr["start_date_time"] == final["start_datetime"]
    assert cdr["stop_date_time"] == final["end_datetime"]
    assert cdr["auth_id"] == final["auth_id"] and cdr["auth_method"] == "AUTH_REQUEST"
    assert cdr["location"] == final["location"]
    assert [e["uid"] for e in cdr["location"]["evses"]] == ["LOC00001-1"]
    assert [c["id"] for c in cdr["location"]["evses"][0]["connectors"]] == ["1"]
    assert cdr["tariffs"][0]["id"] == "TARIFF-AC" and "type" not in cdr["tariffs"][0]
    assert cdr["charging_periods"] == final["charging_periods"]
    assert all("tariff_id" not in p for p in cdr["charging_periods"])
    assert cdr["total_cost"] == final["total_cost"]  # a number, excl. VAT
    assert cdr["total_energy"] == final["kwh"] > 0


def test_an_invalid_session_gets_no_cdr(cpo: StartCpo, emsp: CdrEmsp) -> None:
    sim = cpo(session_fault="invalid")
    invalid = charge(sim, emsp, "invalid")
    assert invalid["status"] == "INVALID"
    sim.session_fault = None
    control = charge(sim, emsp, "control")
    assert sim.wait_for_cdr().session_id == control["id"]
    assert [d.session_id for d in sim.cdrs] == [control["id"]]
    assert len(emsp.cdrs()) == 1


def test_without_a_cdrs_endpoint_nothing_is_sent_and_that_is_recorded(
    cpo: StartCpo, version: str
) -> None:
    bare = CdrEmsp(version, offer_cdrs=False)
    try:
        sim = cpo(bare)
        final = charge(sim, bare)
        delivery = sim.wait_for_cdr(session_id=final["id"])
        assert delivery.error == NO_ENDPOINT and delivery.http_status is None
        assert bare.cdrs() == []
        listed = sender_list(sim, bare).json()["data"]
        assert [c["id"] for c in listed] == [delivery.cdr_id]
    finally:
        bare.close()


def test_cdr_delay_holds_the_cdr_after_the_session_ends(cpo: StartCpo, emsp: CdrEmsp) -> None:
    sim = cpo(cdr_delay=0.6)
    final = charge(sim, emsp)
    ended = time.monotonic()  # the runner starts waiting out the delay about now
    assert sim.cdrs == []
    delivery = sim.wait_for_cdr(session_id=final["id"])
    assert time.monotonic() - ended >= 0.4  # most of the 0.6 s: not sent at once
    assert delivery.http_status == 201
    sim.cdr_delay = 0
    assert sim.cdr_delay == 0.0


# --- faults --------------------------------------------------------------------------------------


def test_duplicate_posts_the_same_cdr_twice(cpo: StartCpo, emsp: CdrEmsp) -> None:
    sim = cpo(cdr_fault="duplicate")
    charge(sim, emsp)
    first, second = wait_until(lambda: emsp.cdrs() if len(emsp.cdrs()) >= 2 else None)
    assert first == second
    assert [d.kind for d in wait_until(lambda: sim.cdrs if len(sim.cdrs) == 2 else None)] == [
        "cdr",
        "duplicate",
    ]


def test_wrong_total_is_ten_percent_too_high(cpo: StartCpo, emsp: CdrEmsp, version: str) -> None:
    sim = cpo()
    sim.cdr_fault = "wrong_total"
    final = charge(sim, emsp)
    (cdr,) = wait_until(emsp.cdrs)
    if modern(version):
        right = final["total_cost"]
        assert cdr["total_cost"] == {
            "excl_vat": money(right["excl_vat"] * Decimal("1.1")),
            "incl_vat": money(right["incl_vat"] * Decimal("1.1")),
        }
        assert cdr["total_energy"] == final["kwh"]
        verify(cdr)
        start, end = readings(cdr)
        assert end - start == cdr["total_energy"]
    else:
        assert cdr["total_cost"] == money(final["total_cost"] * Decimal("1.1"))
        assert cdr["total_energy"] == final["kwh"]


@pytest.mark.parametrize("version", ["2.2.1"])
def test_credit_after_sends_a_credit_then_a_corrected_cdr(cpo: StartCpo, emsp: CdrEmsp) -> None:
    sim = cpo(cdr_fault="credit_after")
    final = charge(sim, emsp)
    original, credit, corrected = wait_until(lambda: emsp.cdrs() if len(emsp.cdrs()) >= 3 else None)
    right = final["total_cost"]
    assert original["total_cost"]["excl_vat"] == money(right["excl_vat"] * Decimal("1.1"))
    assert credit["id"] == original["id"] + "-C" and len(credit["id"]) <= 39
    assert credit["credit"] is True and credit["credit_reference_id"] == original["id"]
    assert credit["total_cost"] == {k: -v for k, v in original["total_cost"].items()}
    for key in original:
        if key not in ("id", "total_cost", "last_updated"):
            assert credit[key] == original[key], key
    assert "credit" not in corrected and "credit_reference_id" not in corrected
    assert corrected["id"] not in (original["id"], credit["id"]) and len(corrected["id"]) <= 36
    assert corrected["total_cost"] == right
    assert corrected["session_id"] == original["session_id"] == final["id"]
    kinds = wait_until(lambda: [d.kind for d in sim.cdrs] if len(sim.cdrs) == 3 else None)
    assert kinds == ["cdr", "credit", "corrected"]
    assert all(d.http_status == 201 for d in sim.cdrs)


def test_late_cdrs_wait_for_release(cpo: StartCpo, emsp: CdrEmsp) -> None:
    sim = cpo(cdr_fault="late")
    final = charge(sim, emsp)
    # the CDR exists (the Sender list serves it) but is not sent
    listed = wait_until(lambda: load_json(sender_list(sim, emsp).content)["data"])
    assert sim.cdrs == [] and emsp.cdrs() == []
    (delivery,) = sim.release_cdrs()
    assert delivery.kind == "late" and delivery.http_status == 201
    assert emsp.cdrs() == listed
    assert delivery.session_id == final["id"]
    assert sim.release_cdrs() == []


@pytest.mark.parametrize("version", ["2.2.1"])
def test_a_tampered_signature_fails_and_the_readings_still_match(
    cpo: StartCpo, emsp: CdrEmsp
) -> None:
    sim = cpo(cdr_fault="tampered_signature")
    charge(sim, emsp)
    (cdr,) = wait_until(emsp.cdrs)
    with pytest.raises(InvalidSignature):
        verify(cdr)
    start, end = readings(cdr)
    assert end - start == cdr["total_energy"]


@pytest.mark.parametrize("version", ["2.2.1"])
def test_energy_mismatch_signs_half_a_kwh_more(cpo: StartCpo, emsp: CdrEmsp) -> None:
    sim = cpo(cdr_fault="energy_mismatch")
    charge(sim, emsp)
    (cdr,) = wait_until(emsp.cdrs)
    verify(cdr)
    start, end = readings(cdr)
    assert end - start == cdr["total_energy"] + Decimal("0.5")


@pytest.mark.parametrize("version", ["2.2.1"])
def test_the_meter_signs_the_sessions_token_or_another_under_foreign_identification(
    cpo: StartCpo, emsp: CdrEmsp
) -> None:
    sim = cpo(cdr_fault=None)
    charge(sim, emsp)
    (cdr,) = wait_until(emsp.cdrs)
    _, payload, _ = ocmf_parts(cdr)
    assert (payload["IS"], payload["IT"]) == (True, "CENTRAL")
    assert payload["ID"] == cdr["cdr_token"]["uid"]
    sim.cdr_fault = "foreign_identification"
    charge(sim, emsp, "second")
    foreign = wait_until(lambda: emsp.cdrs()[1:])[0]
    verify(foreign)  # the signature holds: only the identification is another token's
    _, payload, _ = ocmf_parts(foreign)
    assert payload["IT"] == "CENTRAL" and payload["ID"] != foreign["cdr_token"]["uid"]


@pytest.mark.parametrize("version", ["2.2.1"])
def test_a_new_meter_key_signs_this_and_later_cdrs_of_the_evse(
    cpo: StartCpo, emsp: CdrEmsp
) -> None:
    sim = cpo(cdr_fault=None)
    charge(sim, emsp)
    sim.cdr_fault = "new_meter_key"
    charge(sim, emsp, "second")
    sim.cdr_fault = None
    charge(sim, emsp, "third")
    first, second, third = wait_until(lambda: emsp.cdrs() if len(emsp.cdrs()) == 3 else None)
    for cdr in (first, second, third):
        verify(cdr)
    keys = [cdr["signed_data"]["public_key"] for cdr in (first, second, third)]
    assert keys[0] != keys[1] == keys[2]
    assert readings(second)[0] == readings(first)[1]  # the register carries on


def test_no_cdr_is_never_sent_but_can_be_sent_on_demand(
    cpo: StartCpo, emsp: CdrEmsp, version: str
) -> None:
    sim = cpo(cdr_fault="no_cdr")
    final = charge(sim, emsp)
    listed = wait_until(lambda: load_json(sender_list(sim, emsp).content)["data"])
    assert sim.cdrs == [] and emsp.cdrs() == []
    delivery = sim.send_cdr(final["id"])
    assert delivery.kind == "resend" and delivery.http_status == 201
    assert emsp.cdrs() == listed
    again = sim.send_cdr(final["id"])
    assert again.body == delivery.body
    with pytest.raises(ValueError, match="no session"):
        sim.send_cdr("nope")


def test_fault_and_delay_are_checked() -> None:
    sim = CpoSimulator()
    with pytest.raises(ValueError, match="cdr_fault"):
        sim.cdr_fault = "bogus"
    with pytest.raises(ValueError, match="cdr_delay"):
        sim.cdr_delay = -1
    with pytest.raises(ValueError, match="cdr_fault"):
        CpoSimulator(cdr_fault="bogus")


# --- the Sender list -----------------------------------------------------------------------------


def test_the_cdrs_sender_list_pages_and_filters(cpo: StartCpo, emsp: CdrEmsp, version: str) -> None:
    sim = cpo(cdr_fault="no_cdr", page_size=2)
    for n in range(3):
        charge(sim, emsp, f"s{n}")
    wait_until(lambda: len(sim.cdr_book.created) == 3)
    first = sender_list(sim, emsp)
    assert first.status_code == 200
    assert first.headers["X-Total-Count"] == "3" and first.headers["X-Limit"] == "2"
    page = first.json()["data"]
    assert len(page) == 2
    assert 'rel="next"' in first.headers["Link"] and "offset=2" in first.headers["Link"]
    next_url = first.headers["Link"].split(";")[0].strip("<>")
    rest = httpx.get(next_url, headers={"Authorization": first.request.headers["Authorization"]})
    everything = page + rest.json()["data"]
    assert "Link" not in rest.headers
    assert [c["id"] for c in everything] == [c.id for c in sim.cdr_book.created]
    stamps = [c["last_updated"] for c in everything]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3

    since = sender_list(sim, emsp, date_from=stamps[1]).json()["data"]
    assert [c["id"] for c in since] == [c["id"] for c in everything[1:]]
    until = sender_list(sim, emsp, date_to=stamps[1]).json()["data"]
    assert [c["id"] for c in until] == [everything[0]["id"]]
    limited = sender_list(sim, emsp, offset="1", limit="1")
    assert [c["id"] for c in limited.json()["data"]] == [everything[1]["id"]]
    assert sender_list(sim, emsp, offset="x").json()["status_code"] == 2001


def test_simulate_cpo_takes_cdr_options() -> None:
    parser = SimulateCpo().create_parser("manage.py", "simulate_cpo")
    options = parser.parse_args(["--cdr-delay", "2.5", "--cdr-fault", "credit_after"])
    assert options.cdr_delay == 2.5 and options.cdr_fault == "credit_after"
    with pytest.raises(CommandError):  # argparse refusing the choice, Django style
        parser.parse_args(["--cdr-fault", "bogus"])
