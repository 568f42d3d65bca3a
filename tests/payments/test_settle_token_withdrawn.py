"""Once a checkout is settled its single-use token is withdrawn: invalid here, and the CPO's
copy (tokens receiver) is updated to valid=false, so the token can never start another
session."""

import pytest

from payments.models import DriverToken
from tests.helpers import wait_until
from tests.payments.charging import pay, push_stations, reaches

pytestmark = pytest.mark.django_db(transaction=True)


def cpo_copy(cpo, uid: str) -> dict:
    (token,) = [t for (_, _, u, _), t in cpo.tokens.items() if u.upper() == uid.upper()]
    return token


@pytest.mark.parametrize("version", ["2.2.1", "2.1.1"])
def test_the_cpo_sees_the_token_withdrawn_after_settlement(
    connected_cpo, live_server, stripe_settings, eager_tasks, version
) -> None:
    cpo = connected_cpo(version, location_count=1, update_interval=0.2, cdr_fault=None)
    checkout = reaches(pay(live_server.url, stripe_settings, push_stations(cpo)), "charging")
    token = DriverToken.objects.get(checkout=checkout)
    assert cpo_copy(cpo, token.uid)["valid"] is True  # pushed before the start
    cpo.end_session(cpo.wait_for_session("ACTIVE")["id"])
    reaches(checkout, "settled")
    # Withdrawn by a task enqueued when the settlement commits, so a moment after "settled".
    wait_until(lambda: DriverToken.objects.get(pk=token.pk).valid is False)
    wait_until(lambda: cpo_copy(cpo, token.uid)["valid"] is False)
    patches = [r for r in cpo.requests if r.method == "PATCH" and "/tokens/" in r.path]
    assert len(patches) == 1 and patches[0].json["valid"] is False
    assert "last_updated" in patches[0].json
