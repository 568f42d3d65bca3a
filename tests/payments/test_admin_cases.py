"""The exception queue: open cases first with what they are about and the money involved,
filters by kind, partner and state, and resolving with a note that records who and when."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from ocpi_peer.models import Partner
from payments.cases import open_case, resolve_case
from payments.models import Case, Checkout, CpoTerms, Refund
from tests.payments.charger import charger
from tests.payments.ledger_rows import at, book, cdr_of, checkout_of

pytestmark = pytest.mark.django_db

CASES = "/admin/payments/case/"


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    return client


@pytest.fixture
def queue() -> dict[str, Case]:
    """A price difference on a settled checkout, an unmatched CDR of another partner, and an
    INVALID session case an operator resolved already (the newest)."""
    charger()
    partner = Partner.objects.get(name="Test CPO")
    other = Partner.objects.create(name="Other CPO")
    settled = checkout_of(partner, "REF-ONE")
    cdr = cdr_of(settled, "CDR-PRICE", Decimal("15.10"))
    for kind, minor in [("hold", 5000), ("capture", 1230), ("release", 3770), ("payable", 1510)]:
        book(settled, kind, minor, at(30, 10))
    price = open_case(
        Case.Kind.PRICE_DIFFERENCE,
        "the CDR asks 15.10 EUR, the price shown gives 12.30: took the lower",
        key="price:1",
        checkout=settled,
        cdr=cdr,
    )
    stray = cdr_of(checkout_of(other, "REF-X"), "CDR-STRAY", Decimal("3.00"))
    stray.checkout = None
    stray.partner = other
    stray.save()
    unmatched = open_case(
        Case.Kind.UNMATCHED_CDR,
        "no checkout of ours matches this CDR",
        key="unmatched:1",
        cdr=stray,
    )
    invalid = open_case(
        Case.Kind.INVALID_SESSION,
        "INVALID session: nothing billed",
        key="invalid:1",
        checkout=checkout_of(partner, "REF-INVALID"),
    )
    Case.objects.filter(pk=price.pk).update(opened_at=timezone.now() - timedelta(hours=2))
    Case.objects.filter(pk=unmatched.pk).update(opened_at=timezone.now() - timedelta(hours=1))
    resolve_case(case_id=invalid.pk, by="someone", resolution="CPO confirmed, nothing to do")
    return {"price": price, "unmatched": unmatched, "invalid": invalid}


def listed(client: Client, **params: object) -> list[int]:
    """The case ids in the listing's order."""
    answer = client.get(CASES, params)
    assert answer.status_code == 200
    return [case.pk for case in answer.context["cl"].result_list]


def test_open_cases_come_first_with_their_figures_and_links(operator: Client, queue) -> None:
    assert listed(operator) == [queue["unmatched"].pk, queue["price"].pk, queue["invalid"].pk]
    page = operator.get(CASES).content.decode()
    assert "Exception queue: 2 open cases" in page
    price = queue["price"]
    assert f"/admin/payments/checkout/{price.checkout_id}/change/" in page
    assert f"/admin/payments/cdr/{price.cdr_id}/change/" in page
    assert "held €50.00 · captured €12.30 · refunded €0.00 · owed €15.10" in page
    assert "CDR €15.10" in page and "took the lower" in page
    assert "resolved by someone" in page


def test_the_queue_filters_by_kind_partner_and_state(operator: Client, queue) -> None:
    assert listed(operator, kind="unmatched_cdr") == [queue["unmatched"].pk]
    other = Partner.objects.get(name="Other CPO")
    assert listed(operator, partner__id__exact=other.pk) == [queue["unmatched"].pk]
    assert listed(operator, state="open") == [queue["unmatched"].pk, queue["price"].pk]
    assert listed(operator, state="resolved") == [queue["invalid"].pk]


def test_resolving_asks_for_a_note_and_records_who_and_when(operator: Client, queue) -> None:
    chosen = {"action": "resolve", "_selected_action": [queue["price"].pk, queue["unmatched"].pk]}
    form = operator.post(CASES, chosen)
    assert form.status_code == 200 and 'name="resolution"' in form.content.decode()
    assert Case.objects.filter(resolved_at=None).count() == 2  # nothing closed yet

    empty = operator.post(CASES, {**chosen, "apply": "1", "resolution": ""})
    assert empty.status_code == 200 and "This field is required" in empty.content.decode()

    before = timezone.now()
    done = operator.post(
        CASES, {**chosen, "apply": "1", "resolution": "CPO credited the difference"}, follow=True
    )
    assert "2 cases resolved" in done.content.decode()
    for case in Case.objects.filter(pk__in=chosen["_selected_action"]):
        assert case.resolved_by == "operator"
        assert case.resolution == "CPO credited the difference"
        assert before <= case.resolved_at <= timezone.now()
    assert "Exception queue: 0 open cases" in done.content.decode()


def test_a_resolved_case_keeps_its_first_resolution(operator: Client, queue) -> None:
    invalid = queue["invalid"]
    operator.post(
        CASES,
        {"action": "resolve", "_selected_action": [invalid.pk], "apply": "1", "resolution": "x"},
    )
    invalid.refresh_from_db()
    assert (invalid.resolved_by, invalid.resolution) == ("someone", "CPO confirmed, nothing to do")


def test_refund_from_a_case_opens_its_checkouts_refund_form(operator: Client, queue) -> None:
    price = queue["price"]
    answer = operator.post(CASES, {"action": "refund", "_selected_action": [price.pk]})
    assert answer.status_code == 302
    assert answer["Location"] == f"/admin/payments/checkout/{price.checkout_id}/refund/"
    unmatched = operator.post(
        CASES, {"action": "refund", "_selected_action": [queue["unmatched"].pk]}, follow=True
    )
    assert "Choose one case that is about a checkout" in unmatched.content.decode()


def test_retrying_a_capture_is_only_for_failed_captures(operator: Client, queue) -> None:
    answer = operator.post(
        CASES, {"action": "retry_capture", "_selected_action": [queue["price"].pk]}, follow=True
    )
    assert "not an open failed capture" in answer.content.decode()


def test_the_checkout_page_lists_its_cases(operator: Client, queue) -> None:
    checkout = Checkout.objects.get(authorization_reference="REF-ONE")
    page = operator.get(f"/admin/payments/checkout/{checkout.pk}/change/").content.decode()
    assert f"/admin/payments/case/{queue['price'].pk}/change/" in page and "(open)" in page


def test_cpo_terms_show_and_change_the_expiring_hold_policy(operator: Client, settings) -> None:
    settings.EXPIRING_HOLD_POLICY = "capture"
    terms = CpoTerms.objects.create(country_code="DE", party_id="ABC", default_hold=Decimal("50"))
    listing = operator.get("/admin/payments/cpoterms/").content.decode()
    assert "capture (platform default)" in listing
    page = operator.get(f"/admin/payments/cpoterms/{terms.pk}/change/").content.decode()
    assert "capture: capture what the last Session supports" in page
    operator.post(
        f"/admin/payments/cpoterms/{terms.pk}/change/",
        {
            "country_code": "DE",
            "party_id": "ABC",
            "default_hold": "40.00",
            "expiring_hold_policy": "release",
            "merchant_of_record": "platform",
            "price_tolerance": "0.05",
        },
    )
    terms.refresh_from_db()
    assert (terms.expiring_hold_policy, terms.default_hold) == ("release", Decimal("40.00"))
    assert (
        "capture (platform default)"
        not in operator.get("/admin/payments/cpoterms/").content.decode()
    )


def test_retrying_a_failed_refund_opens_the_refund_form_with_its_reason_and_no_amount(
    operator: Client, queue
) -> None:
    checkout = Checkout.objects.get(authorization_reference="REF-ONE")
    book(checkout, "failed_refund", 300, at(30, 11))
    refund = Refund.objects.create(
        checkout=checkout,
        key="operator:1",
        amount_minor=300,
        currency="EUR",
        reason="cable broken",
        requested_by="operator",
        status=Refund.Status.FAILED,
        failure="card expired",
    )
    checkout.ledger.filter(kind="failed_refund").update(
        note="cable broken: card expired", refund=refund
    )
    failed = open_case(
        Case.Kind.FAILED_REFUND, "refund of 3.00 EUR failed", key="failed:1", checkout=checkout
    )
    answer = operator.post(CASES, {"action": "retry_refund", "_selected_action": [failed.pk]})
    assert answer.status_code == 302
    page = operator.get(answer["Location"])
    form = page.context["form"]
    assert "amount" not in form.initial and form.initial["reason"] == "cable broken"
    assert "The failed refund was €3.00" in page.content.decode()
    wrong = operator.post(
        CASES, {"action": "retry_refund", "_selected_action": [queue["price"].pk]}, follow=True
    )
    assert "Choose one failed refund to retry" in wrong.content.decode()


def test_the_checkout_list_refunds_one_checkout_at_a_time(operator: Client, queue) -> None:
    ids = list(Checkout.objects.values_list("pk", flat=True)[:2])
    one = operator.post(
        "/admin/payments/checkout/", {"action": "refund", "_selected_action": ids[:1]}
    )
    assert one["Location"] == f"/admin/payments/checkout/{ids[0]}/refund/"
    two = operator.post(
        "/admin/payments/checkout/", {"action": "refund", "_selected_action": ids}, follow=True
    )
    assert "Choose one checkout to refund" in two.content.decode()


def test_a_case_page_and_the_ledger_list_show_the_figures(operator: Client, queue) -> None:
    price = queue["price"]
    page = operator.get(f"{CASES}{price.pk}/change/").content.decode()
    assert "took the lower" in page and "owed €15.10" in page and "CDR €15.10" in page
    ledger = operator.get("/admin/payments/ledgerentry/", {"kind": "payable"}).content.decode()
    assert "€15.10" in ledger and "/admin/payments/checkout/settlement/" in ledger


def test_the_admin_front_page_leads_with_the_open_cases_by_kind(operator: Client, queue) -> None:
    page = operator.get("/admin/").content.decode()
    queue_box = page.split('id="exception-queue"')[1].split("</div>")[0]
    assert "CDR matches no checkout" in queue_box and "price difference" in queue_box
    assert "INVALID session" not in queue_box  # resolved already
    assert queue_box.count("1 open") == 2
    assert "kind__exact=unmatched_cdr" in queue_box
    for case in Case.objects.filter(resolved_at=None):
        resolve_case(case_id=case.pk, by="operator", resolution="done")
    assert "Nothing waits for an operator." in operator.get("/admin/").content.decode()
