"""A CPO's EVSE status PATCH, every CPO's hot path: the token lookup and the two UPDATEs are
hand-written statements, so here is what they must still do."""

import copy
from datetime import UTC, datetime, timedelta

import pytest

from ocpi_peer.models import PartnerToken, TrafficLog
from stations.models import Evse, Location
from tests.ocpi.examples import example

pytestmark = pytest.mark.django_db(transaction=True)

URL = "locations/NL/SIM/LOC1/3256"


def pushed(connected_cpo, **options):
    cpo = connected_cpo(**options)
    data = {**copy.deepcopy(example("location_example.json")), "country_code": "NL"}
    data |= {"party_id": "SIM", "id": "LOC1", "last_updated": "2030-01-01T00:00:00Z"}
    for evse in data["evses"]:
        evse["last_updated"] = "2030-01-01T00:00:00Z"
    assert cpo.call_us("PUT", "locations/NL/SIM/LOC1", json=data).status_code == 201
    return cpo


def status(value: str, at: str) -> dict:
    return {"status": value, "last_updated": at}


def test_a_status_patch_writes_the_evse_and_moves_the_location_forward_only(
    connected_cpo,
) -> None:
    cpo = pushed(connected_cpo)
    answer = cpo.call_us("PATCH", URL, json=status("CHARGING", "2030-01-02T00:00:00.250Z"))
    assert answer.status_code == 200 and answer.json()["status_code"] == 1000
    evse = Evse.objects.get(uid="3256")
    assert (evse.status, evse.last_updated) == (
        "CHARGING",
        datetime(2030, 1, 2, 0, 0, 0, 250000, tzinfo=UTC),
    )
    assert Location.objects.get().last_updated == evse.last_updated
    # The other EVSE, newer, then this one at an older time: the location keeps the newest.
    cpo.call_us("PATCH", "locations/NL/SIM/LOC1/3257", json=status("BLOCKED", "2030-01-05T00:00Z"))
    cpo.call_us("PATCH", URL, json=status("AVAILABLE", "2030-01-03T00:00:00Z"))
    assert Evse.objects.get(uid="3256").status == "AVAILABLE"
    assert Location.objects.get().last_updated == datetime(2030, 1, 5, tzinfo=UTC)


def test_a_stale_status_changes_nothing_and_an_equal_time_is_written(connected_cpo) -> None:
    cpo = pushed(connected_cpo)
    cpo.call_us("PATCH", URL, json=status("CHARGING", "2030-01-02T00:00:00Z"))
    stale = cpo.call_us("PATCH", URL, json=status("AVAILABLE", "2030-01-01T12:00:00Z"))
    assert stale.status_code == 200 and stale.json()["status_code"] == 1000
    assert Evse.objects.get(uid="3256").status == "CHARGING"
    cpo.call_us("PATCH", URL, json=status("OUTOFORDER", "2030-01-02T00:00:00Z"))
    assert Evse.objects.get(uid="3256").status == "OUTOFORDER"  # `<=`, as before


def test_an_unknown_evse_is_404_2001_and_an_unknown_location_404_2003(connected_cpo) -> None:
    cpo = pushed(connected_cpo)
    evse = cpo.call_us("PATCH", "locations/NL/SIM/LOC1/NOPE", json=status("CHARGING", "2030-02-01"))
    assert (evse.status_code, evse.json()["status_code"]) == (404, 2001)
    place = cpo.call_us(
        "PATCH", "locations/NL/SIM/NOPE/3256", json=status("CHARGING", "2030-02-01")
    )
    assert (place.status_code, place.json()["status_code"]) == (404, 2003)
    other = cpo.call_us(
        "PATCH", "locations/DE/XYZ/LOC1/3256", json=status("CHARGING", "2030-02-01")
    )
    assert (other.status_code, other.json()["status_code"]) == (404, 2001)  # not their party
    assert Evse.objects.get(uid="3256").status != "CHARGING"


@pytest.mark.parametrize("encode", [True, False])
def test_the_token_works_base64_or_raw(connected_cpo, encode: bool) -> None:
    cpo = pushed(connected_cpo)
    answer = cpo.call_us("PATCH", URL, json=status("CHARGING", "2030-02-01T00:00Z"), encode=encode)
    assert answer.json()["status_code"] == 1000
    assert Evse.objects.get(uid="3256").status == "CHARGING"


@pytest.mark.parametrize("fault", ["revoked", "expired", "unknown"])
def test_a_revoked_expired_or_unknown_token_is_401_and_writes_nothing(
    connected_cpo, fault: str
) -> None:
    cpo = pushed(connected_cpo)
    tokens = PartnerToken.objects.filter(kind=PartnerToken.Kind.ACCESS)
    now = datetime.now(UTC)
    if fault == "revoked":
        tokens.update(revoked_at=now)
    elif fault == "expired":
        tokens.update(expires_at=now - timedelta(seconds=1))
    token = cpo.emsp_token + ("x" if fault == "unknown" else "")
    answer = cpo.call_us("PATCH", URL, json=status("CHARGING", "2030-02-01T00:00Z"), token=token)
    assert answer.status_code == 401 and answer.json()["status_code"] == 2000
    assert answer.headers["WWW-Authenticate"] == "Token"
    assert Evse.objects.get(uid="3256").status != "CHARGING"


def test_a_token_that_expires_later_still_works(connected_cpo) -> None:
    cpo = pushed(connected_cpo)
    later = datetime.now(UTC) + timedelta(hours=1)
    PartnerToken.objects.filter(kind=PartnerToken.Kind.ACCESS).update(expires_at=later)
    answer = cpo.call_us("PATCH", URL, json=status("CHARGING", "2030-02-01T00:00Z"))
    assert answer.json()["status_code"] == 1000


def test_each_patch_is_logged_with_its_ids_and_without_the_token(connected_cpo) -> None:
    cpo = pushed(connected_cpo)
    ids = {"X-Request-ID": "req-1", "X-Correlation-ID": "corr-1"}
    answer = cpo.call_us("PATCH", URL, json=status("CHARGING", "2030-02-01T00:00Z"), headers=ids)
    assert answer.headers["X-Request-ID"] == "req-1"
    assert answer.headers["X-Correlation-ID"] == "corr-1"
    assert answer.headers["OCPI-to-party-id"] == "SIM"  # routing headers mirrored
    row = TrafficLog.objects.get(direction="in", method="PATCH")
    assert (row.request_id, row.correlation_id, row.http_status, row.ocpi_status) == (
        "req-1",
        "corr-1",
        200,
        1000,
    )
    assert row.partner is not None and row.partner.name == "Pushing CPO"
    assert '"CHARGING"' in row.request_body
    assert cpo.emsp_token not in " ".join(str(v) for v in row.__dict__.values())


def test_the_token_lookup_refuses_a_filtered_queryset_it_could_not_honour(connected_cpo) -> None:
    cpo = pushed(connected_cpo)
    found = PartnerToken.objects.find([cpo.emsp_token])
    assert found is not None and found[1] == cpo.emsp_token
    assert found[0].partner.party_keys == ["NL*SIM"] and found[0].created_at is not None
    with pytest.raises(TypeError):
        found[0].partner.tokens.find([cpo.emsp_token])


def test_a_status_we_do_not_know_is_kept_as_sent_and_one_too_long_refused(connected_cpo) -> None:
    """A newer OCPI version's value (up to the 40 characters the reader takes) is stored,
    on PostgreSQL too, where a narrower column used to answer 500."""
    cpo = pushed(connected_cpo)
    future = "OUT_OF_ORDER_PENDING_FIRMWARE_UPDATE_01"  # 39 characters
    answer = cpo.call_us("PATCH", URL, json=status(future, "2030-01-02T00:00:00Z"))
    assert answer.status_code == 200 and answer.json()["status_code"] == 1000
    assert Evse.objects.get(uid="3256").status == future
    longer = cpo.call_us("PATCH", URL, json=status("X" * 41, "2030-01-03T00:00:00Z"))
    assert longer.json()["status_code"] == 2001 and "status" in longer.json()["status_message"]
    assert Evse.objects.get(uid="3256").status == future
