"""An answer longer than OCPI_MAX_RESPONSE_BYTES is refused, however it is sent."""

import pytest

from ocpi_peer.client import Caller, PeerError
from ocpi_peer.models import TrafficLog
from tests.ocpi.hostile import Handler, Server, serving

pytestmark = pytest.mark.django_db


def test_an_answer_announced_longer_than_the_cap_is_refused(settings) -> None:
    settings.OCPI_MAX_RESPONSE_BYTES = 1000

    def announced(handler: Handler, server: Server) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "5000")
        handler.end_headers()
        handler.wfile.write(b" " * 5000)

    with serving(announced) as partner, pytest.raises(PeerError, match="more than our 1000"):
        Caller(token="t", base64_form=True).call("GET", partner.url())
    assert "more than our 1000" in TrafficLog.objects.get().error


def test_an_answer_without_a_length_is_cut_at_the_cap(settings) -> None:
    settings.OCPI_MAX_RESPONSE_BYTES = 1000

    def endless(handler: Handler, server: Server) -> None:
        handler.send_response(200)  # HTTP/1.0 without a length: the body runs to the close
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        while not server.stopping.is_set():
            handler.wfile.write(b'{"data": "' + b"x" * 4096)

    with serving(endless) as partner, pytest.raises(PeerError, match="longer than our 1000"):
        Caller(token="t", base64_form=True).call("GET", partner.url())
