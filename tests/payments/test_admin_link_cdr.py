"""A CDR the CPO sent without anything of ours on it (no token, no reference, an unknown
session id) waits in the exception queue; the operator links it to the checkout it bills, and
it settles that checkout as if it had matched on arrival."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from payments.admin import LinkCdrForm
from payments.models import Case, Cdr
from tests.payments.charging import reaches
from tests.payments.settling import cdr_for, finished_session, minor

pytestmark = pytest.mark.django_db(transaction=True)

CASES = "/admin/payments/case/"


def unmatched_cdr_for(cpo, checkout, session) -> dict:
    body = cdr_for(cpo, checkout, session, total_incl=session.total_cost_incl_vat)
    body["cdr_token"] |= {"uid": "LOST-BY-THE-CPMS", "contract_id": "LOST-BY-THE-CPMS"}
    body["authorization_reference"] = None
    body["session_id"] = "NOT-A-SESSION-WE-KNOW"
    return body


def link(operator: Client, case: Case, checkout: str) -> str:
    data = {"action": "link_cdr", "_selected_action": [case.pk], "checkout": checkout}
    return operator.post(CASES, data | {"apply": "1"}, follow=True).content.decode()


def test_the_operator_links_an_unmatched_cdr_and_it_settles_the_checkout(
    connected_cpo, live_server, stripe_settings, eager_tasks, client
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    cpo.call_us("POST", "cdrs", json=unmatched_cdr_for(cpo, checkout, session))
    case = Case.objects.get(kind=Case.Kind.UNMATCHED_CDR)
    assert Cdr.objects.get().checkout is None and checkout.status == "finished"

    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    form = client.post(CASES, {"action": "link_cdr", "_selected_action": [case.pk]})
    assert form.status_code == 200 and "authorization_reference" in form.content.decode()
    page = link(client, case, checkout.authorization_reference)
    assert "it is being settled" in page

    checkout = reaches(checkout, "settled")
    assert minor(checkout)["capture"] == int(session.total_cost_incl_vat * 100)
    case.refresh_from_db()
    assert case.resolved_by == "operator" and str(checkout.pk) in case.resolution


def test_a_link_that_cannot_be_right_is_refused_with_the_reason(
    connected_cpo, live_server, stripe_settings, eager_tasks, client
) -> None:
    cpo = connected_cpo(location_count=1, update_interval=0.2)
    checkout, session = finished_session(cpo, live_server, stripe_settings)
    cpo.call_us(
        "POST", "cdrs", json=unmatched_cdr_for(cpo, checkout, session) | {"currency": "CHF"}
    )
    case = Case.objects.get(kind=Case.Kind.UNMATCHED_CDR)
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))

    assert "No checkout has this number or reference" in link(client, case, "NO-SUCH-REF")
    assert "Not linked: the CDR is in CHF, the checkout in EUR" in link(
        client, case, str(checkout.pk)
    )
    assert Cdr.objects.get().checkout is None and not checkout.ledger.filter(kind="capture")
    case.refresh_from_db()
    assert case.resolved_at is None


@pytest.mark.parametrize("typed", ["²", "9" * 30, "\u0661"])
def test_a_number_no_checkout_can_have_is_no_checkout(typed: str) -> None:
    form = LinkCdrForm(data={"checkout": typed})
    assert not form.is_valid()
    assert form.errors["checkout"] == ["No checkout has this number or reference."]
