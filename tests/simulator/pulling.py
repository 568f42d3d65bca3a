"""An eMSP pulling from the simulator's Sender endpoints: token C given without a network
round trip, the Authorization header for it, pages followed by their next links, and
timestamps counted from a fixed epoch."""

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx

from cpo_simulator import CpoSimulator
from cpo_simulator.credentials import own_credentials

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


NEXT_LINK = re.compile(r'^<([^>]+)>; rel="next"$')


def registered(sim: CpoSimulator, version: str = "2.2.1") -> str:
    """Give the simulator an eMSP without a network round trip: locations need token C."""
    with sim.lock:
        sim.state.register(
            inbound_token="token-c",
            emsp_token="token-b",
            version=version,
            endpoints={},
            versions_url="http://127.0.0.1:9/versions",
            credentials=own_credentials(sim, version, "token-b"),
            roles=[],
        )
    return "token-c"


def headers_for(sim: CpoSimulator, version: str = "2.2.1") -> dict[str, str]:
    token = registered(sim, version)
    value = base64.b64encode(token.encode()).decode() if sim.base64_for(version) else token
    return {"Authorization": f"Token {value}"}


def crawl(url: str, headers: dict[str, str]) -> Iterator[httpx.Response]:
    """Follow rel="next" until it is absent, as the checklist (T-20) says a client must."""
    next_url: str | None = url
    while next_url is not None:
        response = httpx.get(next_url, headers=headers)
        assert response.status_code == 200, response.text
        yield response
        link = response.headers.get("Link")
        next_url = NEXT_LINK.match(link).group(1) if link else None  # type: ignore[union-attr]


def stamp(seconds: int) -> str:
    return (EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
