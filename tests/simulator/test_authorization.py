"""Who may call the simulator, and in which token form (checklist T-02, T-03)."""

import base64

import httpx
import pytest

from cpo_simulator import CpoSimulator


def auth(token: str, *, base64_form: bool) -> dict[str, str]:
    value = base64.b64encode(token.encode()).decode() if base64_form else token
    return {"Authorization": f"Token {value}"}


def assert_401_envelope(response: httpx.Response) -> None:
    assert response.status_code == 401
    body = response.json()
    assert body["status_code"] == 2000
    assert body["status_message"]
    assert body["timestamp"].endswith("Z")


def test_missing_token_is_401_with_envelope() -> None:
    with CpoSimulator() as sim:
        assert_401_envelope(httpx.get(sim.versions_url))


def test_unknown_token_is_401_with_envelope() -> None:
    with CpoSimulator() as sim:
        assert_401_envelope(httpx.get(sim.versions_url, headers=auth("nope", base64_form=True)))


@pytest.mark.parametrize(
    ("version", "raw_tokens", "accepted_form"),
    [("2.2.1", False, "base64"), ("2.1.1", False, "raw"), ("2.2.1", True, "raw")],
)
def test_only_the_versions_form_is_accepted(
    version: str, raw_tokens: bool, accepted_form: str
) -> None:
    with CpoSimulator(versions=(version,), raw_tokens=raw_tokens) as sim:
        details = f"{sim.base_url}/ocpi/{version}"
        base64_answer = httpx.get(details, headers=auth(sim.token_a, base64_form=True))
        raw_answer = httpx.get(details, headers=auth(sim.token_a, base64_form=False))
    good, bad = (
        (base64_answer, raw_answer) if accepted_form == "base64" else (raw_answer, base64_answer)
    )
    assert good.status_code == 200
    assert_401_envelope(bad)


def test_versions_list_accepts_the_form_of_any_offered_version() -> None:
    with CpoSimulator(versions=("2.1.1", "2.2.1")) as sim:
        for base64_form in (True, False):
            response = httpx.get(
                sim.versions_url, headers=auth(sim.token_a, base64_form=base64_form)
            )
            assert response.status_code == 200


def test_unpadded_base64_is_refused_by_a_strict_221_peer() -> None:
    with CpoSimulator(token_a="ab") as sim:  # base64 "YWI=" needs padding
        response = httpx.get(sim.versions_url, headers={"Authorization": "Token YWI"})
        padded = httpx.get(sim.versions_url, headers={"Authorization": "Token YWI="})
    assert_401_envelope(response)
    assert padded.status_code == 200


def test_token_a_is_refused_outside_credentials_and_versions() -> None:
    with CpoSimulator(location_count=1) as sim:
        response = httpx.get(
            f"{sim.base_url}/ocpi/2.2.1/locations", headers=auth(sim.token_a, base64_form=True)
        )
    assert_401_envelope(response)
    assert response.headers["WWW-Authenticate"] == "Token"


def test_generated_token_a_is_long_printable_ascii() -> None:
    sim = CpoSimulator()
    assert len(sim.token_a) >= 22  # >= 128 bits in base64
    assert all("\x21" <= char <= "\x7e" for char in sim.token_a)
    assert CpoSimulator().token_a != sim.token_a


def test_a_token_a_with_spaces_is_refused() -> None:
    with pytest.raises(ValueError, match="token_a"):
        CpoSimulator(token_a="has space")


def test_generated_tokens_are_safe_on_a_command_line() -> None:
    tokens = [CpoSimulator().token_a for _ in range(200)]
    assert all(token.isalnum() and len(token) == 43 for token in tokens)
