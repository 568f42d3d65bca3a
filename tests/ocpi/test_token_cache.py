"""A pushing CPO's token is looked up once per process and kept while the access generation
stands: whatever changes the partner, its tokens or its parties (a service, the admin, a plain
UPDATE from another process) must be seen at the very next request."""

import base64
import copy
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from ocpi_peer import generations
from ocpi_peer.models import Partner, PartnerToken
from stations.models import Evse
from tests.ocpi.examples import example

pytestmark = pytest.mark.django_db(transaction=True)

URL = "locations/NL/SIM/LOC1/3256"


def pushed(connected_cpo):
    """A connected CPO whose token our process has cached (it has pushed twice)."""
    cpo = connected_cpo()
    data = {**copy.deepcopy(example("location_example.json")), "country_code": "NL"}
    data |= {"party_id": "SIM", "id": "LOC1", "last_updated": "2030-01-01T00:00:00Z"}
    for evse in data["evses"]:
        evse["last_updated"] = "2030-01-01T00:00:00Z"
    assert cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=data).status_code == 201
    assert patch(cpo, "2030-01-01T00:00:01Z").json()["status_code"] == 1000
    return cpo


def patch(cpo, at: str, **options):
    return cpo.call_us("PATCH", URL, json={"status": "CHARGING", "last_updated": at}, **options)


def test_it_refuses_a_token_revoked_by_a_plain_update_at_the_next_request(connected_cpo) -> None:
    cpo = pushed(connected_cpo)
    PartnerToken.objects.filter(kind=PartnerToken.Kind.ACCESS).update(revoked_at=timezone.now())
    assert patch(cpo, "2030-01-02T00:00:00Z").status_code == 401
    assert Evse.objects.get(uid="3256").last_updated.year == 2030
    assert Evse.objects.get(uid="3256").last_updated.day == 1


def test_it_refuses_the_old_token_once_a_rotation_lets_it_expire(connected_cpo) -> None:
    cpo = pushed(connected_cpo)
    old = cpo.emsp_token
    assert cpo.rotate_with_us().json()["status_code"] == 1000
    assert patch(cpo, "2030-01-02T00:00:00Z").json()["status_code"] == 1000  # the new token
    assert patch(cpo, "2030-01-02T00:00:01Z", token=old).status_code == 200  # old: for a while
    PartnerToken.objects.filter(expires_at__isnull=False).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert patch(cpo, "2030-01-03T00:00:00Z", token=old).status_code == 401
    assert patch(cpo, "2030-01-03T00:00:01Z").json()["status_code"] == 1000


def test_it_refuses_the_token_of_a_cpo_that_unregistered(connected_cpo) -> None:
    cpo = pushed(connected_cpo)
    url = f"{cpo.emsp_endpoints['locations']}/NL/SIM/LOC1/3256"
    token = "Token " + base64.b64encode(cpo.emsp_token.encode()).decode()
    assert cpo.unregister_from_us().json()["status_code"] == 1000  # the CPO forgets us
    body = {"status": "CHARGING", "last_updated": "2030-01-02T00:00:00Z"}
    answer = httpx.patch(url, json=body, headers={"Authorization": token})
    assert answer.status_code == 401


def test_it_sees_a_party_taken_from_the_connection(connected_cpo) -> None:
    cpo = pushed(connected_cpo)
    Partner.objects.filter(name="Pushing CPO").update(party_keys=[])
    answer = patch(cpo, "2030-01-02T00:00:00Z")
    assert (answer.status_code, answer.json()["status_code"]) == (404, 2001)


def test_every_partner_column_but_the_contact_ones_raises_the_generation(connected_cpo) -> None:
    """The partner's trigger names its columns (so that the last-contact time a push writes
    does not empty every cache): a column added later must be added to it."""
    connected_cpo()
    partner = Partner.objects.get()
    unwatched = {"last_contact_at", "inbound_token_base64", "last_error"}
    for field in Partner._meta.concrete_fields:
        before = generations.read(generations.ACCESS)
        value = getattr(partner, field.attname)
        with connection.cursor() as cursor:  # a plain UPDATE of that column alone
            cursor.execute(
                f'UPDATE {Partner._meta.db_table} SET "{field.column}" = "{field.column}"'  # noqa: S608
                " WHERE id = %s",
                [partner.pk],
            )
        raised = generations.read(generations.ACCESS) != before
        assert raised == (field.attname not in unwatched), (field.attname, value)
