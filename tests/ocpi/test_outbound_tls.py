"""Over real TLS: we connect to the address we checked, yet SNI names, and the certificate is
verified against, the host of the partner's URL, and the Host header is the URL's. A certificate
for another name or from no CA we trust is refused before anything is sent; with the guard on, a
name resolving to loopback is refused before we even connect.

Only name resolution is stood in for (no DNS server runs here): `cpo.example.test` resolves to
127.0.0.1, where a real HTTPS server answers with a certificate of a throwaway CA that our own TLS
context, as the client builds it, is told to trust for the test."""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ocpi_peer import client
from ocpi_peer.client import Caller, PeerError
from ocpi_peer.models import Partner
from ocpi_peer.registration import invite_partner
from tests.conftest import StartCpo

HOST = "cpo.example.test"  # .test names never resolve for real (RFC 2606)
OTHER_HOST = "other.example.test"


class _Handler(BaseHTTPRequestHandler):
    server: _TlsServer

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests.append((self.path, self.headers.get("Host", "")))
        payload = json.dumps(
            {
                "data": [{"version": "2.2.1", "url": f"https://{HOST}/ocpi/2.2.1"}],
                "status_code": 1000,
                "timestamp": "2026-01-01T00:00:00Z",
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _TlsServer(ThreadingHTTPServer):
    """HTTPS on 127.0.0.1 that records every TCP connection, the SNI name of every handshake,
    and the path and Host header of every request that reaches it."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        self.lock = threading.Lock()
        self.connections = 0
        self.sni: list[str | None] = []
        self.requests: list[tuple[str, str]] = []
        self.context = context
        context.sni_callback = self._saw_sni
        super().__init__(("127.0.0.1", 0), _Handler)
        self.port = self.server_address[1]

    def _saw_sni(self, _: Any, name: str | None, __: ssl.SSLContext) -> None:
        with self.lock:
            self.sni.append(name)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        with self.lock:
            self.connections += 1
        # The handshake happens in the request's own thread (`finish_request`), not here.
        return self.context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), address

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(10)
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return  # the client refused our certificate, as it should have
        super().finish_request(request, client_address)

    def url(self, host: str = HOST) -> str:
        return f"https://{host}:{self.port}/ocpi/versions"


@contextmanager
def _serving(configure: Callable[[ssl.SSLContext], None]) -> Iterator[_TlsServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    configure(context)
    server = _TlsServer(context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def ca() -> Iterator[trustme.CA]:
    """A throwaway CA that the client's own TLS context (certifi's bundle, hostname checks and
    all) trusts as well, for this test only: the next call after it builds a context anew."""
    authority = trustme.CA()
    client._tls.cache_clear()
    authority.configure_trust(client._tls())
    yield authority
    client._tls.cache_clear()


@pytest.fixture(autouse=True)
def names_resolve_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver step only: the partner's host names resolve to 127.0.0.1."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in (HOST, OTHER_HOST):
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _self_signed(tmp_path: Path) -> Callable[[ssl.SSLContext], None]:
    """A certificate for HOST that signs itself: no CA we trust vouches for it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "self-signed.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return lambda context: context.load_cert_chain(pem)


def _caller() -> Caller:
    return Caller(token="our-token-for-them", base64_form=True)


@pytest.mark.django_db
def test_it_names_the_urls_host_in_sni_and_host_while_connecting_to_the_checked_address(
    ca: trustme.CA,
) -> None:
    with _serving(ca.issue_cert(HOST).configure_cert) as server:
        reply = _caller().call("GET", server.url())
    assert reply.ok and reply.data[0]["version"] == "2.2.1"
    assert server.connections == 1
    assert server.sni == [HOST]
    assert server.requests == [("/ocpi/versions", f"{HOST}:{server.port}")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("certificate", "why"),
    [
        (
            lambda ca, _: ca.issue_cert(OTHER_HOST).configure_cert,
            "not valid for 'cpo.example.test'",
        ),
        (lambda _, tmp_path: _self_signed(tmp_path), "self-signed certificate"),
    ],
    ids=["for-another-name", "self-signed"],
)
def test_it_refuses_a_certificate_we_cannot_trust_before_sending_anything(
    ca: trustme.CA, tmp_path: Path, certificate: Any, why: str
) -> None:
    with (
        _serving(certificate(ca, tmp_path)) as server,
        pytest.raises(PeerError, match="certificate verify failed") as refused,
    ):
        _caller().call("GET", server.url())
    assert why in str(refused.value)  # the operator reads what was wrong with it
    assert refused.value.reached is False  # nothing was sent: a retry cannot send it twice
    assert server.sni == [HOST]  # it was asked, for the right name
    assert server.requests == []  # and answered nothing, our token never went out


@pytest.mark.django_db(transaction=True)
def test_it_tells_a_partner_with_a_wrong_certificate_nothing_of_what_we_found(
    ca: trustme.CA, ocpi_base: str, cpo_simulator: StartCpo
) -> None:
    cpo = cpo_simulator()  # it calls us; our call to the URL it gives is what TLS refuses
    partner, token_a = invite_partner(name="Wrong certificate")
    with _serving(ca.issue_cert(OTHER_HOST).configure_cert) as server:
        credentials = {
            "token": "CPO-TOKEN-B-1234567890",
            "url": server.url(),
            "roles": [
                {
                    "role": "CPO",
                    "business_details": {"name": "X"},
                    "party_id": "SIM",
                    "country_code": "NL",
                }
            ],
        }
        answer = cpo.call_us(
            "POST", f"{ocpi_base}/2.2.1/credentials", token=token_a, json=credentials
        ).json()
    assert answer["status_code"] == 3001
    assert answer["status_message"].split(" (reference")[0] == (
        "we could not use your OCPI API at the URLs you gave us; our operator has the details"
    )
    assert "not valid for 'cpo.example.test'" in Partner.objects.get(pk=partner.pk).last_error
    assert server.requests == []


@pytest.mark.django_db
def test_it_refuses_a_name_resolving_to_loopback_before_connecting(
    ca: trustme.CA, settings: Any
) -> None:
    settings.OCPI_ALLOW_PRIVATE_URLS = False
    with (
        _serving(ca.issue_cert(HOST).configure_cert) as server,
        pytest.raises(PeerError, match=f"{HOST} resolves to 127.0.0.1, a loopback address"),
    ):
        _caller().call("GET", server.url())
    assert server.connections == 0
