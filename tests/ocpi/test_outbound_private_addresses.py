"""A partner's URL that resolves to our own network is refused after DNS resolution, before
anything is sent; a lab turns that off with OCPI_ALLOW_PRIVATE_URLS."""

import ipaddress

import pytest

from ocpi_peer.client import Caller, PeerError
from ocpi_peer.models import TrafficLog
from ocpi_peer.outbound import refusal
from tests.ocpi.hostile import ok, serving

pytestmark = pytest.mark.django_db


def _caller() -> Caller:
    return Caller(token="our-token-for-them", base64_form=True)


def test_a_partner_url_on_loopback_is_refused_and_never_called(settings) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    with serving(ok) as server:
        with pytest.raises(PeerError, match="loopback") as refused:
            _caller().call("GET", server.url())
        assert server.requests == []  # not even a connection carried our token there
    assert refused.value.reached is False and not refused.value.transient
    assert "refused by our outbound rules" in TrafficLog.objects.get().error


def test_a_host_name_is_checked_after_it_resolves(settings) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    with serving(ok) as server:
        with pytest.raises(PeerError, match=r"localhost resolves to .*loopback"):
            _caller().call("GET", server.url(host="localhost"))
        assert server.requests == []


@pytest.mark.parametrize(
    "url", ["http://10.1.2.3/ocpi/versions", "http://169.254.169.254/latest/meta-data/"]
)
def test_private_and_link_local_addresses_are_refused_without_connecting(
    settings, url: str
) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    with pytest.raises(PeerError, match="we do not call it"):
        _caller().call("GET", url)


def test_the_address_rules_refuse_every_non_public_address() -> None:
    def why(address: str, allow_private: bool = False) -> str | None:
        return refusal(ipaddress.ip_address(address), allow_private=allow_private)

    for address in (
        "127.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "fd00::1",
        "169.254.169.254",
        "fe80::1",
        "224.0.0.1",
        "ff02::1",
        "0.0.0.0",  # noqa: S104 (an address we refuse, not one we bind)
        "::",
        "240.0.0.1",
    ):
        assert why(address) is not None, address
    assert why("8.8.8.8") is None
    assert why("2001:4860:4860::8888") is None
    # A lab reaches loopback and private addresses, never link-local (cloud metadata) ones.
    assert why("127.0.0.1", allow_private=True) is None
    assert why("10.0.0.1", allow_private=True) is None
    assert why("169.254.169.254", allow_private=True) is not None
    assert why("224.0.0.1", allow_private=True) is not None


def test_plain_http_to_a_public_address_is_refused_with_debug_off(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(PeerError, match="use https"):
        _caller().call("GET", "http://8.8.8.8/ocpi/versions")


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/ocpi/versions", "http:///x", "http://[::1", ""])
def test_only_http_and_https_urls_with_a_host_are_called(url: str) -> None:
    with pytest.raises(PeerError, match="we do not call it"):
        _caller().call("GET", url)


def test_a_lab_reaches_loopback_with_private_urls_allowed(settings) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = True
    settings.DEBUG = False  # plain http is fine for a lab's own addresses
    with serving(ok) as server:
        assert _caller().call("GET", server.url()).ok
        assert server.requests == ["/ocpi/versions"]
