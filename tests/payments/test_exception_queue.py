"""Everything an operator must look at opens one case in the exception queue, however often
the CPO repeats what caused it."""

import pytest

from payments.cases import resolve_case
from payments.models import Case
from tests.helpers import wait_until
from tests.payments.charging import push_stations
from tests.payments.settling import cdr

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unmatched_cdr_sent_twice_opens_one_case(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("POST", "cdrs", json=cdr())
    cpo.call_us("POST", "cdrs", json=cdr())
    [case] = Case.objects.all()
    assert case.kind == Case.Kind.UNMATCHED_CDR and case.cdr.cdr_id == "CDR-1"
    assert case.partner_id == case.cdr.partner_id and case.resolved_at is None


def test_a_conflicting_cdr_opens_a_case_beside_the_unmatched_one(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("POST", "cdrs", json=cdr())
    for _ in range(2):
        cpo.call_us("POST", "cdrs", json=cdr(total_energy=99))
    kinds = sorted(Case.objects.values_list("kind", flat=True))
    assert kinds == [Case.Kind.CDR_CONFLICT, Case.Kind.UNMATCHED_CDR]


def test_a_foreign_session_updated_many_times_opens_one_case(connected_cpo) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.1)
    push_stations(cpo)
    cpo.start_session_unasked(0, 1, "RFID-NOT-OURS")
    wait_until(lambda: Case.objects.exists())
    session = Case.objects.get().session
    wait_until(lambda: session.__class__.objects.get(pk=session.pk).kwh > 0)  # more pushes came
    [case] = Case.objects.all()
    assert case.kind == Case.Kind.UNMATCHED_SESSION and "no checkout" in case.summary


def test_resolving_records_who_and_when_once(connected_cpo) -> None:
    cpo = connected_cpo()
    cpo.call_us("POST", "cdrs", json=cdr())
    case = Case.objects.get()
    resolve_case(case_id=case.pk, by="alice", resolution="a test CDR from the CPO's staging")
    resolve_case(case_id=case.pk, by="bob", resolution="again")
    case.refresh_from_db()
    assert case.resolved_by == "alice" and case.resolved_at is not None
    assert case.resolution == "a test CDR from the CPO's staging"
