"""What ties a CDR's signed meter data to its session beyond the signature: reading times within
a few minutes of the session's, the meter key an operator entered for the EVSE, and no pin
taken from data whose signature fails. Each mismatch is one case, and the receipt says it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection

from cpo_simulator.ocmf import MeterSigner
from ocpi_peer.models import Partner
from payments import eichrecht, receipts
from payments.models import Case, Cdr, Checkout, DriverToken, MeterKey, SignedPage
from tests.payments.charger import charger
from tests.payments.ledger_rows import checkout_of
from tests.support.roles import signed_in

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
TOKEN_UID = "TOKEN-UID-1"


@pytest.fixture
def checkout() -> Checkout:
    evse = charger()
    checkout = checkout_of(evse.location.partner, "REF-SIGNED")
    DriverToken.objects.create(
        checkout=checkout, uid=TOKEN_UID, auth_id="AUTH-1", contract_id="DE-CPY-C1"
    )
    return checkout


def cdr_signed_by(
    checkout: Checkout,
    meter: MeterSigner,
    *,
    cdr_id: str = "CDR-SIGNED-1",
    shift: timedelta = timedelta(0),
    tamper: bool = False,
    record: str = "",
) -> Cdr:
    """A CDR of `checkout` from START to END whose meter signed 10 kWh, its clock `shift` off
    (or that carries `record`, signed by `meter` before)."""
    signed_record, key = meter.sign_readings(
        Decimal("100"),
        Decimal("110"),
        START + shift,
        END + shift,
        "METER-1",
        identification=("CENTRAL", TOKEN_UID),
    )
    record = record or signed_record
    if tamper:
        record = record.replace('"MS":"METER-1"', '"MS":"METER-2"')
    signed = {
        "encoding_method": "OCMF",
        "public_key": key,
        "signed_values": [{"nature": "End", "plain_data": record, "signed_data": record}],
    }
    cdr = Cdr.objects.create(
        partner=checkout.partner,
        country_code="DE",
        party_id="ABC",
        cdr_id=cdr_id,
        version="2.2.1",
        checkout=checkout,
        body=json.dumps({"id": cdr_id, "signed_data": signed}),
        content_hash=cdr_id,
        start=START,
        end=END,
        currency="EUR",
        total_cost_excl_vat=Decimal("5.00"),
        total_cost_incl_vat=Decimal("5.95"),
        total_energy=Decimal("10"),
    )
    eichrecht.check_cdr(cdr)
    return cdr


def test_readings_timed_within_a_few_minutes_of_the_session_are_its_own(checkout) -> None:
    cdr = cdr_signed_by(checkout, MeterSigner(), shift=timedelta(minutes=2))
    calibration = receipts.calibration_for(cdr, checkout)
    assert calibration is not None and calibration.verdict == "valid"
    assert calibration.findings.times == "match"
    assert calibration.findings.identification == "match"
    assert not Case.objects.filter(kind=Case.Kind.SIGNED_DATA_MISMATCH).exists()


def test_readings_timed_far_from_the_session_open_a_case_and_the_receipt_says_so(
    checkout,
) -> None:
    cdr = cdr_signed_by(checkout, MeterSigner(), shift=timedelta(minutes=20))
    calibration = receipts.calibration_for(cdr, checkout)
    assert calibration is not None and calibration.verdict == "time_mismatch"
    assert calibration.verdict_text.startswith("Warning: the times the meter signed")
    (case,) = Case.objects.filter(kind=Case.Kind.SIGNED_DATA_MISMATCH)
    assert case.cdr == cdr and "the signed start reading is timed" in case.summary
    eichrecht.check_cdr(cdr)  # checked again (a retried task): still one case
    assert Case.objects.filter(kind=Case.Kind.SIGNED_DATA_MISMATCH).count() == 1


def test_a_key_entered_by_an_operator_is_what_cdrs_are_compared_with(checkout) -> None:
    label = MeterSigner()
    operations = signed_in("ops", "operations")
    answer = operations.post(
        "/admin/payments/meterkey/add/",
        {"evse": checkout.evse.pk, "public_key": label.public_key_hex},
    )
    assert answer.status_code == 302, answer.content.decode()
    pinned = MeterKey.objects.get(evse=checkout.evse)
    assert pinned.pinned_by == "ops" and pinned.cdr is None

    cdr = cdr_signed_by(checkout, MeterSigner())  # signed by another meter than the label's
    calibration = receipts.calibration_for(cdr, checkout)
    assert calibration is not None and calibration.verdict == "key_changed"
    assert Case.objects.get(kind=Case.Kind.METER_KEY_CHANGED).cdr == cdr
    assert MeterKey.objects.get(evse=checkout.evse).public_key == label.public_key_hex


def test_the_admin_refuses_a_meter_key_that_is_not_a_key(checkout) -> None:
    operations = signed_in("ops", "operations")
    answer = operations.post(
        "/admin/payments/meterkey/add/", {"evse": checkout.evse.pk, "public_key": "not a key!"}
    )
    assert answer.status_code == 200 and "not a public key" in answer.content.decode()
    assert not MeterKey.objects.exists()
    support = signed_in("helpdesk", "support")
    assert support.get("/admin/payments/meterkey/add/").status_code == 403


def test_no_key_is_pinned_from_data_whose_signature_fails(checkout) -> None:
    cdr_signed_by(checkout, MeterSigner(), tamper=True)
    assert not MeterKey.objects.filter(evse=checkout.evse).exists()
    meter = MeterSigner()
    second = checkout_of(checkout.partner, "REF-SIGNED-2")
    DriverToken.objects.create(checkout=second, uid="TOKEN-UID-2", auth_id="A2", contract_id="C2")
    cdr = cdr_signed_by(second, meter, cdr_id="CDR-SIGNED-2")
    assert MeterKey.objects.get(evse=checkout.evse).cdr == cdr


def test_a_record_another_checkout_billed_already_opens_a_case(checkout) -> None:
    meter = MeterSigner()
    first = cdr_signed_by(checkout, meter)
    (value,) = json.loads(first.body)["signed_data"]["signed_values"]
    again = checkout_of(checkout.partner, "REF-SIGNED-2")
    # The record names the second checkout's token, so only the page gives the replay away.
    DriverToken.objects.filter(checkout=checkout).update(uid="TOKEN-UID-OLD")
    DriverToken.objects.create(checkout=again, uid=TOKEN_UID, auth_id="A2", contract_id="C2")
    cdr = cdr_signed_by(again, meter, cdr_id="CDR-SIGNED-2", record=value["plain_data"])
    calibration = receipts.calibration_for(cdr, again)
    assert calibration is not None and calibration.verdict == "time_mismatch"
    (case,) = Case.objects.filter(kind=Case.Kind.SIGNED_DATA_MISMATCH)
    assert case.cdr == cdr and "was billed already by CDR CDR-SIGNED-1" in case.summary
    assert receipts.calibration_for(first, checkout).verdict != "time_mismatch"  # type: ignore[union-attr]


def _replay_of(first: Cdr, checkout: Checkout, meter: MeterSigner, ref: str) -> Cdr:
    """A CDR of a new checkout (at `checkout`'s EVSE unless moved) carrying `first`'s record,
    under the key of the `meter` that signed it."""
    (value,) = json.loads(first.body)["signed_data"]["signed_values"]
    again = checkout_of(checkout.partner, ref)
    DriverToken.objects.filter(uid=TOKEN_UID).update(uid=f"OLD-{ref}")
    DriverToken.objects.create(checkout=again, uid=TOKEN_UID, auth_id=ref, contract_id=ref)
    return cdr_signed_by(again, meter, cdr_id=f"CDR-{ref}", record=value["plain_data"])


def _replay_cases(cdr: Cdr) -> list[str]:
    return [
        case.summary
        for case in Case.objects.filter(kind=Case.Kind.SIGNED_DATA_MISMATCH, cdr=cdr)
        if "was billed already" in case.summary
    ]


def test_a_record_billed_many_sessions_ago_is_still_found(checkout) -> None:
    meter = MeterSigner()
    first = cdr_signed_by(checkout, meter)
    for n in range(60):  # more sessions at the EVSE than any window of recent ones
        later = checkout_of(checkout.partner, f"REF-LATER-{n}")
        cdr_signed_by(later, meter, cdr_id=f"CDR-LATER-{n}")
    cdr = _replay_of(first, checkout, meter, "REF-AGAIN")
    assert _replay_cases(cdr) == [
        "the signed record of meter Simulated METER-1, page T1, was billed already by CDR "
        f"CDR-SIGNED-1 (checkout {checkout.pk})"
    ]
    assert receipts.calibration_for(cdr, cdr.checkout).verdict == "time_mismatch"  # type: ignore[union-attr]


def test_a_record_billed_at_another_evse_of_the_connection_is_found(checkout) -> None:
    meter = MeterSigner()
    first = cdr_signed_by(checkout, meter)
    other_evse = checkout.evse
    other_evse.pk, other_evse.uid, other_evse.evse_id = None, "MOVED-1", "DE*ABC*EMOVED1"
    other_evse.save()
    Checkout.objects.filter(pk=checkout.pk).update(evse=other_evse)  # the meter moved since
    cdr = _replay_of(first, checkout, meter, "REF-AGAIN")
    assert len(_replay_cases(cdr)) == 1


def test_the_same_page_from_another_connection_is_not_compared(checkout) -> None:
    ours = checkout.partner
    stranger = Partner.objects.create(name="Another CPO", status=Partner.Status.REGISTERED)
    Checkout.objects.filter(pk=checkout.pk).update(partner=stranger)
    checkout.refresh_from_db()
    meter = MeterSigner()
    first = cdr_signed_by(checkout, meter)  # billed through the other connection
    checkout.partner = ours
    cdr = _replay_of(first, checkout, meter, "REF-AGAIN")  # the same meter and page, through ours
    assert _replay_cases(cdr) == []
    assert receipts.calibration_for(cdr, cdr.checkout).findings.times == "match"  # type: ignore[union-attr]


def test_records_of_cdrs_stored_before_the_pages_were_kept_are_found(checkout) -> None:
    meter = MeterSigner()
    first = cdr_signed_by(checkout, meter)
    SignedPage.objects.all().delete()  # as the database was before the upgrade
    upgrade = import_module("payments.migrations.0027_signed_pages")
    upgrade.keep_pages_of_stored_cdrs(django_apps, SimpleNamespace(connection=connection))
    assert list(SignedPage.objects.values_list("meter", "page", "cdr")) == [
        ("Simulated METER-1", "T1", first.pk)
    ]
    cdr = _replay_of(first, checkout, meter, "REF-AGAIN")
    assert len(_replay_cases(cdr)) == 1
