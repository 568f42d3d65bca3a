"""The Tokens Receiver (checklist §8.1): GET, PUT and PATCH of the eMSP's tokens, and
`require_known_token`, the CPMS habit of starting sessions only for tokens it holds."""

from typing import Any

import httpx
import pytest

from cpo_simulator import CpoSimulator
from cpo_simulator.transport import authorization
from tests.simulator import charging
from tests.simulator.charging import (
    ChargingEmsp,
    StartCpo,
    command,
    modern,
    results,
    start_body,
    token_for,
)

version, emsp, cpo = charging.version, charging.emsp, charging.cpo


def tokens_call(
    sim: CpoSimulator,
    emsp: ChargingEmsp,
    method: str,
    uid: str,
    body: Any = None,
    party: str = "DE/REC",
    query: str = "",
) -> httpx.Response:
    assert emsp.cpo_token is not None
    headers = {"Authorization": authorization(emsp.cpo_token, base64_form=modern(emsp.version))}
    url = f"{sim.base_url}/ocpi/{emsp.version}/tokens/{party}/{uid}{query}"
    return httpx.request(method, url, json=body, headers=headers)


def test_put_get_patch(cpo: StartCpo, emsp: ChargingEmsp, version: str) -> None:
    sim = cpo()
    token = token_for(version, "0123ABCD")
    query = "?type=AD_HOC_USER" if modern(version) else ""
    created = tokens_call(sim, emsp, "PUT", "0123ABCD", token, query=query)
    replaced = tokens_call(
        sim, emsp, "PUT", "0123ABCD", token | {"issuer": "Other issuer"}, query=query
    )
    if modern(version):  # without ?type= the URL means RFID, and the body says otherwise
        assert tokens_call(sim, emsp, "PUT", "0123ABCD", token).json()["status_code"] == 2001
    got = tokens_call(sim, emsp, "GET", "0123abcd", query=query)  # CiString: any case
    patched = tokens_call(
        sim,
        emsp,
        "PATCH",
        "0123ABCD",
        {"valid": False, "last_updated": "2026-02-02T10:00:00Z"},
        query=query,
    )

    assert (created.status_code, replaced.status_code) == (201, 200)
    assert created.json()["status_code"] == replaced.json()["status_code"] == 1000
    assert "data" not in created.json()
    assert got.json()["data"] == token | {"issuer": "Other issuer"}
    assert patched.status_code == 200 and patched.json()["status_code"] == 1000
    key = ("DE", "REC", "0123ABCD", token["type"])
    assert list(sim.tokens) == [key]
    assert sim.tokens[key]["valid"] is False
    assert sim.tokens[key]["last_updated"] == "2026-02-02T10:00:00Z"


@pytest.mark.parametrize("version", ["2.2.1"])  # 2.1.1 has no ?type=
def test_the_type_parameter_tells_tokens_apart(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    sim = cpo()
    app = token_for("2.2.1", "SAME", type="APP_USER")
    rfid = token_for("2.2.1", "SAME", type="RFID")
    assert tokens_call(sim, emsp, "PUT", "SAME", app, query="?type=APP_USER").status_code == 201
    assert tokens_call(sim, emsp, "PUT", "SAME", rfid).status_code == 201  # RFID: the default
    assert len(sim.tokens) == 2
    assert tokens_call(sim, emsp, "GET", "SAME").json()["data"]["type"] == "RFID"
    mismatch = tokens_call(sim, emsp, "PUT", "SAME", app)  # no ?type= means RFID
    assert mismatch.json()["status_code"] == 2001


def test_wrong_tokens_are_refused(cpo: StartCpo, emsp: ChargingEmsp, version: str) -> None:
    sim = cpo()
    token = token_for(version, "T1")
    required = "contract_id" if modern(version) else "auth_id"
    answers = {
        "uid differs": tokens_call(sim, emsp, "PUT", "T2", token),
        "required field": tokens_call(
            sim, emsp, "PUT", "T1", {k: v for k, v in token.items() if k != required}
        ),
        "bad whitelist": tokens_call(sim, emsp, "PUT", "T1", token | {"whitelist": "SOMETIMES"}),
        "bad date": tokens_call(sim, emsp, "PUT", "T1", token | {"last_updated": "yesterday"}),
    }
    if modern(version):
        answers["party differs"] = tokens_call(sim, emsp, "PUT", "T1", token | {"party_id": "XXX"})
        answers["patch without last_updated"] = tokens_call(
            sim, emsp, "PATCH", "T1", {"valid": False}
        )
    else:
        answers["2.2.1 type"] = tokens_call(sim, emsp, "PUT", "T1", token | {"type": "APP_USER"})
    for what, answer in answers.items():
        assert answer.json()["status_code"] == 2001, what
    not_ours = tokens_call(sim, emsp, "PUT", "T1", token, party="NL/XYZ")
    assert not_ours.status_code == 404
    assert tokens_call(sim, emsp, "GET", "T9").status_code == 404
    stamp = {"last_updated": "2026-02-02T10:00:00Z"}
    assert tokens_call(sim, emsp, "PATCH", "T9", {"valid": False} | stamp).status_code == 404
    assert tokens_call(sim, emsp, "DELETE", "T1").status_code == 405
    assert sim.tokens == {}


def test_require_known_token_rejects_tokens_it_does_not_hold(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo(require_known_token=True)
    body = start_body(emsp, "unknown")
    token = body["token"]
    unknown = command(sim, emsp, "START_SESSION", body)
    assert unknown["status_code"] == 1000 and unknown["data"]["result"] == "REJECTED"
    if modern(version):
        assert "unknown token" in unknown["data"]["message"][0]["text"]

    query = f"?type={token['type']}" if modern(version) else ""
    assert tokens_call(sim, emsp, "PUT", token["uid"], token, query=query).status_code == 201
    known = command(sim, emsp, "START_SESSION", body | {"response_url": emsp.response_url("ok")})
    assert known["data"]["result"] == "ACCEPTED"
    assert results(emsp, "ok")[0].body == {"result": "ACCEPTED"}
    session = sim.wait_for_session(status="ACTIVE")
    sim.end_session(session["id"])

    tokens_call(
        sim,
        emsp,
        "PATCH",
        token["uid"],
        {"valid": False, "last_updated": "2026-02-03T00:00:00Z"},
        query=query,
    )
    invalid = command(sim, emsp, "START_SESSION", body | {"response_url": emsp.response_url("x")})
    assert invalid["data"]["result"] == "REJECTED"
    assert [c.response["result"] for c in sim.commands if c.response] == [
        "REJECTED",
        "ACCEPTED",
        "REJECTED",
    ]


def test_without_the_option_any_token_starts(cpo: StartCpo, emsp: ChargingEmsp) -> None:
    """The spec: the CPO SHALL NOT check a StartSession's token (the eMSP did)."""
    sim = cpo()
    body = start_body(emsp)
    body["token"]["valid"] = False
    assert command(sim, emsp, "START_SESSION", body)["data"]["result"] == "ACCEPTED"
    sim.wait_for_session(status="ACTIVE")


def test_an_unasked_session_uses_the_pushed_token(
    cpo: StartCpo, emsp: ChargingEmsp, version: str
) -> None:
    sim = cpo()
    token = token_for(version, "04CAFE", type="RFID")
    tokens_call(sim, emsp, "PUT", "04CAFE", token)
    session_id = sim.start_session_unasked(0, 1, "04cafe")
    session = sim.wait_for_session(status="ACTIVE", session_id=session_id)
    if modern(version):
        assert session["cdr_token"]["contract_id"] == token["contract_id"]
        assert session["cdr_token"]["uid"] == "04CAFE"
    else:
        assert session["auth_id"] == token["auth_id"]
