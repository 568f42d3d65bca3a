"""A host name whose resolution hangs (a partner's DNS server that never answers) costs only its
own call, which fails at its deadline: calls to other hosts made meanwhile still resolve, and
when too many lookups hang at once a call is refused at once instead of piling up threads."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ocpi_peer import outbound
from ocpi_peer.client import Caller, PeerError
from tests.helpers import wait_until
from tests.ocpi.hostile import ok, serving

pytestmark = pytest.mark.django_db

HEALTHY = "cpo.example.test"  # resolves to 127.0.0.1, where a partner answers
HANGING = [f"dead-dns-{n}.example.test" for n in range(4)]  # as many as a small pool has threads


class _Dns:
    """The resolver step only: HANGING names hang until `answer` is set, then do not resolve."""

    def __init__(self) -> None:
        self.answer = threading.Event()
        self.asked: list[str] = []


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Dns]:
    fake, real = _Dns(), socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in HANGING:
            fake.asked.append(host)
            fake.answer.wait(30)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real("127.0.0.1" if host == HEALTHY else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield fake
    fake.answer.set()  # the lookups still hanging end with the test


def _call(host: str, port: int = 9) -> Any:
    return Caller(token="t", base64_form=True).call("GET", f"http://{host}:{port}/ocpi/versions")


def test_it_fails_a_hanging_lookup_at_the_deadline_and_still_resolves_other_hosts(
    dns: _Dns, settings: Any
) -> None:
    settings.OCPI_CALL_DEADLINE = 0.3
    for host in HANGING:
        with pytest.raises(PeerError, match=f"{host} did not resolve in time") as cut:
            _call(host)
        assert cut.value.transient and cut.value.reached is False
    wait_until(lambda: sorted(dns.asked) == HANGING)  # every one of them hangs meanwhile

    settings.OCPI_CALL_DEADLINE = 10.0  # far more than a loopback call needs
    with serving(ok) as partner:
        assert _call(HEALTHY, partner.port).ok
        assert partner.requests == ["/ocpi/versions"]


def test_it_refuses_at_once_while_too_many_lookups_hang_and_resolves_again_after(
    dns: _Dns, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbound, "_lookups", threading.BoundedSemaphore(2))
    settings.OCPI_CALL_DEADLINE = 0.3
    for host in HANGING[:2]:
        with pytest.raises(PeerError, match="did not resolve in time"):
            _call(host)

    settings.OCPI_CALL_DEADLINE = 10.0
    with serving(ok) as partner:
        with pytest.raises(
            PeerError, match="too many other host names are still resolving"
        ) as busy:
            _call(HEALTHY, partner.port)
        assert busy.value.transient and busy.value.reached is False
        assert partner.requests == []

        dns.answer.set()  # the dead DNS servers finally give up

        def answered() -> bool:
            try:
                return _call(HEALTHY, partner.port).ok
            except PeerError as exc:
                assert "still resolving" in str(exc)
                return False

        assert wait_until(answered)
        assert partner.requests == ["/ocpi/versions"]
