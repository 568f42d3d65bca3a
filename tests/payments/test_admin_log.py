"""Operators read the admin's audit trail in the admin: every entry with who, when, what and a
link to its object, filtered by user or by object; nobody adds, edits or deletes an entry."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from ocpi_peer.models import Partner
from payments.cases import open_case
from payments.models import Case, CpoTerms
from tests.payments.charger import charger
from tests.payments.ledger_rows import checkout_of
from tests.support.roles import signed_in

pytestmark = pytest.mark.django_db

LOG = "/admin/admin/logentry/"


@pytest.fixture
def cases() -> list[Case]:
    charger()
    checkout = checkout_of(Partner.objects.get(name="Test CPO"), "REF-ONE")
    return [
        open_case(Case.Kind.MISSING_CDR, f"no CDR {n}", key=f"missing:{n}", checkout=checkout)
        for n in (1, 2)
    ]


def resolve(client: Client, case: Case, note: str) -> None:
    data = {"action": "resolve", "_selected_action": [case.pk], "resolution": note, "apply": "1"}
    client.post("/admin/payments/case/", data)
    assert Case.objects.get(pk=case.pk).resolution == note


def listed(client: Client, **params: object) -> list[str]:
    page = client.get(LOG, params)
    assert page.status_code == 200
    return [entry.get_change_message() for entry in page.context["cl"].result_list]


def test_it_lists_who_did_what_to_which_object_and_filters_by_user_and_object(cases) -> None:
    resolve(signed_in("anna", "support"), cases[0], "CPO sent it late")
    finance = signed_in("ben", "finance")
    resolve(signed_in("carl", "operations"), cases[1], "no session happened")
    finance.post(
        "/admin/payments/cpoterms/add/",
        {
            "country_code": "DE",
            "party_id": "ABC",
            "default_hold": "30.00",
            "merchant_of_record": "platform",
            "price_tolerance": "0.05",
        },
    )

    page = finance.get(LOG).content.decode()
    assert "Resolved: CPO sent it late" in page and "anna" in page
    assert f'href="/admin/payments/case/{cases[0].pk}/change/"' in page
    anna = User.objects.get(username="anna")
    assert listed(finance, user__id__exact=anna.pk) == ["Resolved: CPO sent it late"]
    case_type = ContentType.objects.get_for_model(Case)
    about = listed(finance, content_type__id__exact=case_type.pk, object_id=cases[1].pk)
    assert about == ["Resolved: no session happened"]
    assert listed(finance, content_type__id__exact=ContentType.objects.get_for_model(CpoTerms).pk)
    history = finance.get(f"/admin/payments/case/{cases[1].pk}/history/").content.decode()
    assert "Resolved: no session happened" in history and "carl" in history


def test_nobody_adds_edits_or_deletes_an_entry(cases, admin_client: Client) -> None:
    resolve(admin_client, cases[0], "done")
    entry = LogEntry.objects.get()
    assert admin_client.get(f"{LOG}add/").status_code == 403
    assert admin_client.post(f"{LOG}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    change = admin_client.post(f"{LOG}{entry.pk}/change/", {"change_message": "nothing"})
    assert change.status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    admin_client.post(LOG, bulk)
    entry.refresh_from_db()
    assert entry.get_change_message() == "Resolved: done"
    assert LogEntry.objects.count() == 1


def test_support_does_not_read_the_log(cases) -> None:
    assert signed_in("anna", "support").get(LOG).status_code == 403
