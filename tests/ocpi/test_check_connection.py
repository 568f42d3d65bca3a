""" "Check connection" calls a registered partner over HTTP (versions, details, credentials, two
pages of locations) and writes what its CPMS does into the connection's compatibility profile:
the token form it takes, trailing slashes, the page size, the form of its Link header."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from cpo_simulator import CpoSimulator
from ocpi_peer.compatibility import check_connection
from ocpi_peer.models import Partner, TrafficLog
from tests.support.roles import signed_in

pytestmark = pytest.mark.django_db(transaction=True)

Connect = Callable[..., CpoSimulator]


def findings(partner: Partner) -> dict[str, dict]:
    return {f["check"]: f for f in partner.compatibility_findings}


def test_it_learns_the_simulators_ways_and_sets_the_switches_it_needs(
    connected_cpo: Connect,
) -> None:
    connected_cpo(location_count=3, page_size=2)
    partner = Partner.objects.get()
    # A profile that is wrong for this CPMS: raw tokens and trailing slashes.
    Partner.objects.filter(pk=partner.pk).update(send_token_base64=False, add_trailing_slash=True)
    checked = check_connection(partner_id=partner.pk)
    found = findings(checked)
    assert checked.compatibility_checked_at is not None
    assert not any(f["failed"] for f in found.values()), found
    assert found["token form"]["seen"] == "Base64 token accepted (OCPI 2.2.1 asks for Base64)"
    assert not found["token form"]["unusual"]
    assert found["trailing slash"]["seen"] == "not needed: URLs work as published"
    assert found["page size"]["seen"] == (
        "capped at 2 (asked for 10), got 2; X-Limit 2, X-Total-Count 3"
    )
    assert found["Link header"]["seen"] == '<absolute URL>; rel="next"'
    assert not found["Link header"]["unusual"]
    assert found["next page"]["seen"] == "followed: 1 more location(s)"
    assert found["credentials"]["seen"] == "GET answered with their credentials"
    assert checked.send_token_base64 is None  # the version's rule works
    assert checked.add_trailing_slash is False
    calls = TrafficLog.objects.filter(partner=partner, direction="out")
    assert calls.filter(url__contains="/locations?limit=10").exists()


def test_a_cpms_that_takes_raw_tokens_under_2_2_1_is_remembered_as_such(
    connected_cpo: Connect,
) -> None:
    connected_cpo(raw_tokens=True, location_count=1)
    partner = Partner.objects.get()
    Partner.objects.filter(pk=partner.pk).update(send_token_base64=None)  # forget the handshake
    checked = check_connection(partner_id=partner.pk)
    token = findings(checked)["token form"]
    assert token["seen"] == "raw token accepted (OCPI 2.2.1 asks for Base64)" and token["unusual"]
    assert checked.send_token_base64 is False
    assert findings(checked)["Link header"]["seen"] == "none (a single page)"


def test_a_partner_that_cannot_be_reached_is_noted_and_nothing_else_changes(
    connected_cpo: Connect,
) -> None:
    cpo = connected_cpo()
    partner = Partner.objects.get()
    cpo.stop()
    checked = check_connection(partner_id=partner.pk)
    [failed] = [f for f in checked.compatibility_findings if f["failed"]]
    assert failed["check"] == "versions" and "could not connect" in failed["seen"]
    assert checked.send_token_base64 == partner.send_token_base64
    assert checked.add_trailing_slash == partner.add_trailing_slash


def test_operations_checks_from_the_partner_page_and_reads_the_findings(
    connected_cpo: Connect,
) -> None:
    connected_cpo(location_count=3, page_size=2)
    partner = Partner.objects.get()
    operations = signed_in("olga", "operations")
    page = operations.get(f"/admin/ocpi_peer/partner/{partner.pk}/change/").content.decode()
    assert "Check connection" in page and "not checked yet" in page
    answer = operations.post(f"/admin/ocpi_peer/partner/{partner.pk}/check/", follow=True)
    page = answer.content.decode()
    assert "connection checked, works" in page
    assert 'id="compatibility-findings"' in page and "capped at 2 (asked for 10)" in page


def test_the_list_action_checks_each_selected_partner(
    connected_cpo: Connect, client: Client
) -> None:
    connected_cpo(location_count=1)
    partner = Partner.objects.get()
    client.force_login(User.objects.create_superuser("root", "", "pw-operator-1"))
    client.post(
        "/admin/ocpi_peer/partner/",
        {"action": "check_connection", "_selected_action": [partner.pk]},
    )
    partner.refresh_from_db()
    assert partner.compatibility_checked_at is not None


def test_roles_that_may_not_change_partners_cannot_check_them(connected_cpo: Connect) -> None:
    connected_cpo()
    partner = Partner.objects.get()
    answer = signed_in("fiona", "finance").post(f"/admin/ocpi_peer/partner/{partner.pk}/check/")
    assert answer.status_code == 403
    assert Partner.objects.get().compatibility_checked_at is None


def test_a_cpms_that_wants_trailing_slashes_gets_them_from_then_on(
    connected_cpo: Connect,
) -> None:
    cpo = connected_cpo(location_count=3, page_size=2)
    cpo.fault = "slash_needed"
    partner = Partner.objects.get()
    before = len(cpo.requests)
    checked = check_connection(partner_id=partner.pk)
    found = findings(checked)
    assert found["trailing slash"] == {
        "check": "trailing slash",
        "seen": "needed: the URL as published failed",
        "unusual": True,
        "failed": False,
    }
    assert not any(f["failed"] for f in found.values()), found
    assert found["next page"]["seen"] == "followed: 1 more location(s)"
    assert checked.add_trailing_slash is True
    answered = [r.path for r in cpo.requests[before:] if r.status == 200]
    assert len(answered) == 5 and all(path.endswith("/") for path in answered), answered
