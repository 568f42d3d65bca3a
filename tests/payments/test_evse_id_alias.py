"""A CPO may publish EVSE IDs of another operator id it owns (its Dutch id, a brand it bought):
an operator approves the pair in the admin, recorded with who and when, and those EVSEs become
payable; withdrawing the approval makes them unpayable again."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from stations.models import Evse, EvseIdAlias
from tests.payments.stickers import landing, publish_as_own

pytestmark = pytest.mark.django_db(transaction=True)

ALIASES = "/admin/stations/evseidalias/"


@pytest.fixture
def operator(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("operator", "", "pw-operator-1"))
    return client


def test_an_alias_approved_in_the_admin_makes_the_evse_payable(
    connected_cpo, live_server, stripe_settings, operator: Client
) -> None:
    cpo = connected_cpo(country_code="DE", party_id="XYZ", location_count=1)
    publish_as_own(cpo, "NL*XYZ*E1")
    assert "not payable here" in landing(live_server.url, "NL*XYZ*E1").text
    added = operator.post(
        f"{ALIASES}add/",
        {"country_code": "DE", "party_id": "XYZ", "operator": "nl*xyz", "note": "its NL id"},
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    alias = EvseIdAlias.objects.get()
    assert (alias.country_code, alias.party_id, alias.operator_prefix) == ("DE", "XYZ", "NLXYZ")
    assert alias.approved_by == "operator" and alias.approved_at is not None
    page = landing(live_server.url, "NL*XYZ*E1")
    assert "not payable here" not in page.text and 'id="pay"' in page.text
    listed = operator.get(ALIASES).content.decode()
    assert "DE*XYZ may publish NL*XYZ" in listed and "operator" in listed

    withdrawn = operator.post(f"{ALIASES}{alias.pk}/delete/", {"post": "yes"})
    assert withdrawn.status_code == 302
    assert "not payable here" in landing(live_server.url, "NL*XYZ*E1").text


def test_an_operator_approves_from_the_evse_list(
    connected_cpo, live_server, stripe_settings, operator: Client
) -> None:
    cpo = connected_cpo(country_code="DE", party_id="XYZ", location_count=1)
    publish_as_own(cpo, "DE*QQQ*E7")
    listed = operator.get("/admin/stations/evse/", {"foreign_id": "yes"}).content.decode()
    assert "DE*QQQ*E7" in listed and "not approved (not payable)" in listed
    evse_pk = Evse.objects.get(evse_id="DE*QQQ*E7").pk
    operator.post(
        "/admin/stations/evse/",
        {"action": "approve_id_operator", "_selected_action": [evse_pk]},
    )
    alias = EvseIdAlias.objects.get()
    assert str(alias) == "DE*XYZ may publish DE*QQQ" and alias.approved_by == "operator"
    assert 'id="pay"' in landing(live_server.url, "DEQQQE7").text
    listed = operator.get("/admin/stations/evse/", {"foreign_id": "yes"}).content.decode()
    assert "DE*QQQ*E7" not in listed


def test_an_operator_id_that_is_not_one_is_refused_with_a_message(operator: Client) -> None:
    answer = operator.post(
        f"{ALIASES}add/", {"country_code": "DE", "party_id": "XYZ", "operator": "D1*ABC"}
    )
    assert answer.status_code == 200 and "e.g. NL*ABC" in answer.content.decode()
    assert not EvseIdAlias.objects.exists()
