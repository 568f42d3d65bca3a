"""CDRs are POSTed to the module's URL and read back at the URL the answer's `Location` names;
a CPO that mixes the two up gets a 405 in the envelope, not a server error."""

from collections.abc import Callable

import pytest

from cpo_simulator import CpoSimulator

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_refuses_a_post_to_a_cdrs_own_url(
    connected_cpo: Callable[..., CpoSimulator], ocpi_base: str
) -> None:
    cpo = connected_cpo()
    response = cpo.call_us("POST", f"{ocpi_base}/2.2.1/cdrs/NL/SIM/CDR1", json={})
    assert response.status_code == 405
    assert response.json()["status_code"] == 2000


def test_it_refuses_a_get_of_the_whole_module(
    connected_cpo: Callable[..., CpoSimulator], ocpi_base: str
) -> None:
    cpo = connected_cpo()
    response = cpo.call_us("GET", f"{ocpi_base}/2.2.1/cdrs")
    assert response.status_code == 405
    assert response.json()["status_code"] == 2000
